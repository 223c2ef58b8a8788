// line-step-delivery dispatcher setup|status (issue 28): the one call that sets the
// dispatcher up (the same as SQL's lsd_dispatcher_setup), and what it is doing: its
// configuration (never the token: that is the dispatch function's secret), the last starts
// with GitHub's answers, whether the schedule had to act, and this month's runs and billed
// minutes against the budget. The CLI's table (src/cli/commands.ts) calls runDispatcher.
import { flagOption, textOption, usageError, type CommandArgs, type ParsedArgs } from './command-line.js';
import type { Store } from '../store/store.js';
import { readDispatcher, setupDispatcher, type DispatcherSetup } from '../store/dispatcher.js';
import { dispatcherStatusText } from '../report/dispatcher-section.js';
import type { CliOutput } from './report-cli.js';
import { LATENESS_DAYS, latenessSpan, latenessTable } from '../report/lateness.js';

export const DISPATCHER_ARGS: CommandArgs = {
  usage:
    'dispatcher setup|status [--owner O --repo R --workflow FILE.yml --ref REF --budget-minutes N|none --min-gap-seconds N --public-repository --off|--on]',
  about: [
    'setup: the dispatcher in your database starts the workflow (workflow_dispatch)',
    'when work is due; the settings named change, the others are kept (docs/dispatcher.md);',
    "status: its settings, the last starts with GitHub's answers, the safety net, and this",
    "month's runs and billed minutes against the budget (state as for run: DATABASE_URL, ...)",
  ],
  options: {
    owner: { type: 'string' },
    repo: { type: 'string' },
    workflow: { type: 'string' },
    ref: { type: 'string' },
    'budget-minutes': { type: 'string' },
    'min-gap-seconds': { type: 'string' },
    'public-repository': { type: 'boolean' },
    off: { type: 'boolean' },
    on: { type: 'boolean' },
  },
  positionals: 1,
};

const stdio: CliOutput = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** A whole number option, or undefined when not given; "none" (for the budget) is null. */
function numberOption(parsed: ParsedArgs, key: string, allowNone: boolean): number | null | undefined {
  const given = textOption(parsed, key);
  if (given === undefined) return undefined;
  if (allowNone && given === 'none') return null;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 0) {
    const none = allowNone ? ' or none' : '';
    throw usageError(parsed.command, DISPATCHER_ARGS, `--${key} must be a whole number${none}, got "${given}"`);
  }
  return n;
}

/** The settings the arguments name. */
export function setupFromArgs(parsed: ParsedArgs): DispatcherSetup {
  if (flagOption(parsed, 'off') && flagOption(parsed, 'on'))
    throw usageError(parsed.command, DISPATCHER_ARGS, '--off or --on, not both');
  const minGap = numberOption(parsed, 'min-gap-seconds', false);
  return {
    owner: textOption(parsed, 'owner'),
    repo: textOption(parsed, 'repo'),
    workflow: textOption(parsed, 'workflow'),
    ref: textOption(parsed, 'ref'),
    budgetMinutes: numberOption(parsed, 'budget-minutes', true),
    minGapSeconds: minGap ?? undefined,
    publicRepository: flagOption(parsed, 'public-repository') ? true : undefined,
    enabled: flagOption(parsed, 'off') ? false : flagOption(parsed, 'on') ? true : undefined,
  };
}

/** The database's refusal of a setting ("dispatcher setup: owner ... give owner, e.g. ..."), without the driver's prefix. */
function refusal(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.indexOf('dispatcher setup: ');
  return at < 0 ? undefined : message.slice(at).split('\n')[0];
}

export async function runDispatcher(
  parsed: ParsedArgs,
  openStore: () => Promise<Store>,
  io: CliOutput = stdio,
): Promise<number> {
  const what = parsed.positional;
  if (what !== 'setup' && what !== 'status')
    throw usageError(parsed.command, DISPATCHER_ARGS, what ? `"${what}" is not setup or status` : 'setup or status?');
  const setup = what === 'setup' ? setupFromArgs(parsed) : undefined;
  const store = await openStore();
  try {
    if (setup) {
      try {
        await setupDispatcher(store.rpc, setup);
      } catch (error) {
        const why = refusal(error);
        if (!why) throw error;
        io.err(`line-step-delivery ${why}\n`);
        return 1;
      }
    }
    const state = await readDispatcher(store.rpc, { limit: 10 });
    io.out(`${dispatcherStatusText(state)}\n`);
    const days = latenessTable(await store.latenessByDay(latenessSpan(state.now)));
    io.out(
      days.length
        ? `\nLateness, the last ${LATENESS_DAYS} days:\n${days.join('\n')}\n`
        : `\nLateness: no sending tick recorded in the last ${LATENESS_DAYS} days.\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
