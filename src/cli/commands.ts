// Every command of the CLI, one entry each: its arguments (options, how many positionals,
// the usage and help lines; parsed by src/commands/command-line.ts) and what runs it with
// the parsed arguments. main.ts parses with the entry and --help is made from this table.
// To add a command: write its module (src/commands/<name>.ts, or src/cli/ if it only
// prints), then one entry here: { args: { usage, about, options, positionals }, run }.
// A mistake in the arguments is a UsageError (usageError(...)): main prints it, exit 1.
import { usageError, textOption, type CommandArgs, type ParsedArgs } from '../commands/command-line.js';
import { openStore, settingsFromEnv } from '../commands/config.js';
import { INSPECT_ARGS, REPORT_ARGS, runInspect, runReport } from '../commands/report-cli.js';
import { openPglite } from '../store/pglite.js';
import { runDemo } from '../demo/demo.js';
import { RUN_MODE_MEANING } from '../engine/index.js';
import { scenarioFolder, whenFound } from './folders.js';
import { checkScenarios, printTimelines, writeSchema } from './scenario-commands.js';
import { importFile, runModeOf, runOneTick } from './state-commands.js';
import { DOCTOR_ARGS, INIT_ARGS, runDoctor, runInit } from './setup-commands.js';
import { FORECAST_ARGS, runForecast } from '../commands/forecast-cli.js';
import { DISPATCHER_ARGS, runDispatcher } from '../commands/dispatcher.js';
import { MIGRATE_ARGS, runMigrate } from '../commands/migrate.js';

export interface CliCommand {
  args: CommandArgs;
  run: (parsed: ParsedArgs) => Promise<number>;
}

const scenarios = { scenarios: { type: 'string' } } as const;
const base = { base: { type: 'string' } } as const;

/** A command over the scenario folder (DIR or --scenarios DIR), run once the folder is found. */
const inFolder =
  (run: (parsed: ParsedArgs, dir: string) => Promise<number>) =>
  (parsed: ParsedArgs): Promise<number> => {
    const dir = scenarioFolder(parsed);
    return whenFound(parsed.command, dir, 'folder', () => run(parsed, dir));
  };

const openStateStore = () => openStore(settingsFromEnv(), { openLocal: openPglite });

export const COMMANDS: Record<string, CliCommand> = {
  validate: {
    args: {
      usage: 'validate [DIR] [--base REF] [--line]',
      about: [
        'check every scenario file; exit 1 on any problem; with --line,',
        'also that the rich menus and aliases they name exist on the',
        'channel (LINE_CHANNEL_ACCESS_TOKEN)',
      ],
      options: { ...scenarios, ...base, line: { type: 'boolean' } },
      positionals: 1,
    },
    run: inFolder(checkScenarios),
  },
  preview: {
    args: {
      usage: 'preview [DIR] [--base REF]',
      about: [
        'print the flowchart and timeline of each scenario (Markdown);',
        'with --base, also what changed since that git revision',
      ],
      options: { ...scenarios, ...base },
      positionals: 1,
    },
    run: inFolder(checkScenarios),
  },
  schema: {
    args: {
      usage: 'schema [DIR]',
      about: ['write DIR/scenario.schema.json for editors'],
      options: scenarios,
      positionals: 1,
    },
    run: (parsed) => writeSchema(scenarioFolder(parsed)),
  },
  demo: {
    args: {
      usage: 'demo [DIR]',
      about: ['simulate two weeks of sample users on an embedded Postgres', '(run mode no-line: LINE not called)'],
      options: scenarios,
      positionals: 1,
    },
    run: inFolder((_, dir) => runDemo({ dir })),
  },
  timeline: {
    args: {
      usage: 'timeline [DIR]',
      about: ['print when an imagined user gets each step of each scenario'],
      options: scenarios,
      positionals: 1,
    },
    run: inFolder((parsed, dir) => printTimelines(parsed.command, dir)),
  },
  import: {
    args: {
      usage: 'import FILE.csv [--list NAME]',
      about: [
        'users (a list) or events into the events table;',
        'row errors name the line; importing the same file twice adds nothing',
      ],
      options: { list: { type: 'string' } },
      positionals: 1,
    },
    run: (parsed) => {
      const file = parsed.positional;
      if (file === undefined) throw usageError(parsed.command, parsed.spec, 'which file?');
      return whenFound(parsed.command, file, 'file', () => importFile(file, textOption(parsed, 'list')));
    },
  },
  run: {
    args: {
      usage: 'run [DIR] [--run-mode=send|plan-only|no-line]',
      about: [
        'one tick: state from DATABASE_URL, or SUPABASE_URL + SUPABASE_SECRET_KEY,',
        'else the embedded PGlite in .data/pglite (PGLITE_DIR); LINE from',
        'LINE_CHANNEL_ACCESS_TOKEN. Run modes:',
        `  send       ${RUN_MODE_MEANING.send}`,
        '             (the default when LINE_CHANNEL_ACCESS_TOKEN is set)',
        `  plan-only  ${RUN_MODE_MEANING['plan-only']}`,
        `  no-line    ${RUN_MODE_MEANING['no-line']}`,
        '             (the default without a token)',
        '(--dry-run and --line-dry-run, deprecated: plan-only and no-line)',
      ],
      // --dry-run and --line-dry-run: the deprecated names of --run-mode=plan-only and no-line.
      options: {
        ...scenarios,
        'run-mode': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'line-dry-run': { type: 'boolean' },
      },
      positionals: 1,
    },
    run: (parsed) => {
      const dir = scenarioFolder(parsed);
      const mode = runModeOf(parsed);
      return whenFound(parsed.command, dir, 'folder', () => runOneTick(dir, mode));
    },
  },
  report: { args: REPORT_ARGS, run: (parsed) => runReport(parsed, openStateStore) },
  inspect: { args: INSPECT_ARGS, run: (parsed) => runInspect(parsed, openStateStore) },
  init: { args: INIT_ARGS, run: runInit },
  // doctor reports a missing scenario folder as one of its checks, beside the others.
  doctor: { args: DOCTOR_ARGS, run: (parsed) => runDoctor(parsed, scenarioFolder(parsed)) },
  forecast: { args: FORECAST_ARGS, run: inFolder((parsed, dir) => runForecast(parsed, dir, openPglite)) },
  dispatcher: { args: DISPATCHER_ARGS, run: (parsed) => runDispatcher(parsed, openStateStore) },
  migrate: { args: MIGRATE_ARGS, run: () => runMigrate(openPglite) },
};

/** The CLI's --help: every command of the table, its usage and what it does. */
export function helpText(): string {
  const commands = Object.values(COMMANDS).map(({ args }) =>
    [`  ${args.usage}`, ...args.about.map((line) => `             ${line}`)].join('\n'),
  );
  return `line-step-delivery: LINE step delivery from scenario files

Usage: line-step-delivery <command> [arguments]

Commands (DIR: the scenario folder, default scenarios; also --scenarios DIR):
${commands.join('\n')}
  -h, --help   this text
`;
}
