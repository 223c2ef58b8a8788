// The run mode: one word for each way a tick can run, the same in the action (input
// run-mode), the CLI (--run-mode) and the code.
//
//   send       the tick writes its state and calls LINE (the normal run)
//   plan-only  a what-if: the tick reads and plans, writes nothing, and does not call LINE
//   no-line    the tick writes its state but does not call LINE: sends are recorded as sent
//
// The older names (the action's dry-run input, the CLI's --dry-run and --line-dry-run) still
// work for a deprecation period: each warns once and maps to its run mode.

export const RUN_MODES = ['send', 'plan-only', 'no-line'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** What each run mode does, in the words of the help texts, the job summary and the logs. */
export const RUN_MODE_MEANING: Record<RunMode, string> = {
  send: 'state advances, LINE is called',
  'plan-only': 'a what-if: nothing written, LINE not called',
  'no-line': 'state advances, LINE not called: sends are recorded as if sent',
};

/** "run mode plan-only (a what-if: nothing written, LINE not called)". */
export function describeRunMode(mode: RunMode): string {
  return `run mode ${mode} (${RUN_MODE_MEANING[mode]})`;
}

export class RunModeError extends Error {}

export function isRunMode(value: string): value is RunMode {
  return (RUN_MODES as readonly string[]).includes(value);
}

/** A run mode given as text: `where` names the setting in the message ("input run-mode", "--run-mode"). */
export function parseRunMode(value: string, where: string): RunMode {
  if (isRunMode(value)) return value;
  throw new RunModeError(`${where} must be send, plan-only or no-line, got "${value}"`);
}

/** A deprecated setting that was given, and the run mode it stands for. */
export interface RunModeAlias {
  /** As the user wrote it: "input dry-run: true", "--line-dry-run". */
  given: string;
  mode: RunMode;
}

/**
 * The run mode from the new setting and any deprecated ones given. Each deprecated one is
 * reported once through warn, with the new way to write it; settings that disagree are
 * refused rather than one of them quietly winning.
 */
export function resolveRunMode(args: {
  /** The new setting, as given; undefined when it was not. */
  value: string | undefined;
  /** The new setting's name, for messages: "input run-mode", "--run-mode". */
  name: string;
  /** How a mode is written with the new setting: "run-mode: no-line", "--run-mode=no-line". */
  write: (mode: RunMode) => string;
  aliases: RunModeAlias[];
  /** The mode when nothing is given. */
  fallback: RunMode;
  warn: (message: string) => void;
}): RunMode {
  const chosen = args.value === undefined ? undefined : parseRunMode(args.value, args.name);
  for (const alias of args.aliases)
    args.warn(`${alias.given} is deprecated: write ${args.write(alias.mode)} instead (it means the same).`);
  const given = [...(chosen ? [{ given: args.write(chosen), mode: chosen }] : []), ...args.aliases];
  if (new Set(given.map((g) => g.mode)).size > 1) {
    const all = RUN_MODES.map(args.write).join(', ');
    throw new RunModeError(`${given.map((g) => g.given).join(' and ')} disagree: give one of ${all}`);
  }
  return given[0]?.mode ?? args.fallback;
}
