// The command line's arguments, per command: a command takes only its own options and
// positionals, and anything else is refused, so `validate some/dir` never quietly checks
// another folder.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { resolveRunMode, RunModeError, type RunMode, type RunModeAlias } from '../engine/index.js';

export type CommandName = 'validate' | 'preview' | 'schema' | 'demo' | 'timeline' | 'import' | 'run';

interface CommandSpec {
  /** The positional argument, if the command takes one: the scenario folder, or the CSV file. */
  positional: 'DIR' | 'FILE' | undefined;
  options: ParseArgsOptionsConfig;
  usage: string;
}

const scenarios = { scenarios: { type: 'string' } } as const;
const base = { base: { type: 'string' } } as const;

export const COMMANDS: Record<CommandName, CommandSpec> = {
  validate: {
    positional: 'DIR',
    options: { ...scenarios, ...base, line: { type: 'boolean' } },
    usage: 'validate [DIR] [--base REF] [--line]',
  },
  preview: { positional: 'DIR', options: { ...scenarios, ...base }, usage: 'preview [DIR] [--base REF]' },
  schema: { positional: 'DIR', options: scenarios, usage: 'schema [DIR]' },
  demo: { positional: 'DIR', options: scenarios, usage: 'demo [DIR]' },
  timeline: { positional: 'DIR', options: scenarios, usage: 'timeline [DIR]' },
  import: { positional: 'FILE', options: { list: { type: 'string' } }, usage: 'import FILE.csv [--list NAME]' },
  run: {
    positional: 'DIR',
    // --dry-run and --line-dry-run: the deprecated names of --run-mode=plan-only and no-line.
    options: {
      ...scenarios,
      'run-mode': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'line-dry-run': { type: 'boolean' },
    },
    usage: 'run [DIR] [--run-mode=send|plan-only|no-line]',
  },
};

/** A mistake in the arguments: the message (a whole line) says what was wrong and how to write it. */
export class UsageError extends Error {}

export interface ParsedCommand {
  command: CommandName;
  help: boolean;
  /** The scenario folder: the positional DIR, else --scenarios, else "scenarios". */
  dir: string;
  /** import's CSV file. */
  file?: string | undefined;
  base?: string | undefined;
  /** validate --line: also check the rich menus the scenarios name on the LINE channel. */
  line?: boolean;
  list?: string | undefined;
  /** run's mode, when given (--run-mode, or a deprecated flag); the CLI's default depends on the token. */
  runMode?: RunMode | undefined;
  /** What to print on stderr before running: a deprecated flag's new spelling. */
  warnings: string[];
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** node:util's strict parse; its own message names the option ("Unknown option '--foo'", "argument missing"). */
function parseStrict(
  name: string,
  args: string[],
  options: ParseArgsOptionsConfig,
  usage: string,
): { values: Values; positionals: string[] } {
  try {
    const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
    return parseArgs({ args, strict: true, allowPositionals: true, options: all });
  } catch (error) {
    throw new UsageError(
      `line-step-delivery ${name}: ${error instanceof Error ? error.message : String(error)}\n${usage}`,
    );
  }
}

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

/** Parses `<command> [arguments]`; undefined when no command was given. `others`: commands parsed elsewhere. */
export function parseCommand(argv: string[], others: string[] = []): ParsedCommand | undefined {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') return undefined;
  if (name.startsWith('-')) {
    throw new UsageError(
      `line-step-delivery: the command comes first, then its options: line-step-delivery <command> ${name} …`,
    );
  }
  if (!isCommand(name)) {
    const known = [...Object.keys(COMMANDS), ...others].join(', ');
    throw new UsageError(`line-step-delivery: unknown command "${name}": use one of ${known}`);
  }
  const spec = COMMANDS[name];
  const usage = `usage: line-step-delivery ${spec.usage}`;
  const { values, positionals } = parseStrict(name, rest, spec.options, usage);
  const text = (key: string): string | undefined => (typeof values[key] === 'string' ? values[key] : undefined);
  const flag = (key: string): boolean => values[key] === true;
  const [first, ...extra] = positionals;
  if (extra.length || (first !== undefined && !spec.positional)) {
    const unexpected = spec.positional ? extra : positionals;
    const listed = unexpected.map((a) => `"${a}"`).join(' ');
    throw new UsageError(`line-step-delivery ${name}: unexpected argument(s) ${listed}\n${usage}`);
  }
  const optionDir = text('scenarios');
  if (spec.positional === 'DIR' && first !== undefined && optionDir !== undefined && first !== optionDir) {
    const both = `"${first}" and --scenarios "${optionDir}"`;
    throw new UsageError(`line-step-delivery ${name}: two scenario folders, ${both}: give one\n${usage}`);
  }
  const help = flag('help');
  if (spec.positional === 'FILE' && first === undefined && !help) {
    throw new UsageError(`line-step-delivery ${name}: which file?\n${usage}`);
  }
  return {
    command: name,
    help,
    dir: (spec.positional === 'DIR' ? first : undefined) ?? optionDir ?? 'scenarios',
    file: spec.positional === 'FILE' ? first : undefined,
    base: text('base'),
    line: flag('line'),
    list: text('list'),
    ...runModeOf(name, text('run-mode'), flag, usage),
  };
}

/** --run-mode, or its deprecated flags (each warned about once); undefined when none is given. */
function runModeOf(
  name: string,
  value: string | undefined,
  flag: (key: string) => boolean,
  usage: string,
): { runMode: RunMode | undefined; warnings: string[] } {
  const aliases: RunModeAlias[] = [
    ...(flag('dry-run') ? [{ given: '--dry-run', mode: 'plan-only' as const }] : []),
    ...(flag('line-dry-run') ? [{ given: '--line-dry-run', mode: 'no-line' as const }] : []),
  ];
  const warnings: string[] = [];
  if (value === undefined && !aliases.length) return { runMode: undefined, warnings };
  try {
    const runMode = resolveRunMode({
      value,
      name: '--run-mode',
      write: (m) => `--run-mode=${m}`,
      aliases,
      fallback: 'send',
      warn: (message) => warnings.push(`line-step-delivery ${name}: warning: ${message}`),
    });
    return { runMode, warnings };
  } catch (error) {
    if (!(error instanceof RunModeError)) throw error;
    throw new UsageError(`line-step-delivery ${name}: ${error.message}\n${usage}`, { cause: error });
  }
}
