// The command line: the same jobs as the action, for a terminal.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseCommand, UsageError, type CommandName, type ParsedCommand } from './args.js';
import { validateScenarios } from '../commands/validate.js';
import { formatIssue } from '../scenario/issues.js';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';
import { SCHEMA_FILE_NAME } from '../scenario/loader.js';
import { timeline } from '../planner/timeline.js';
import { runDemo } from '../demo/demo.js';
import { tickCommand } from '../commands/tick-command.js';
import { openStore, settingsFromEnv } from '../commands/config.js';
import { openPglite } from '../store/pglite.js';
import { importCsv } from '../commands/import.js';
import { needsAPerson } from '../report/summary.js';
import { formatLocal, localToInstant } from '../time/zoned.js';
import { sampleTrigger } from '../preview/markdown.js';
import { isReportCommand, REPORT_HELP, reportCli } from '../commands/report-cli.js';
import { RUN_MODE_MEANING } from '../engine/index.js';

const HELP = `line-step-delivery: LINE step delivery from scenario files

Usage: line-step-delivery <command> [arguments]

Commands (DIR: the scenario folder, default scenarios; also --scenarios DIR):
  validate [DIR] [--base REF] [--line]
             check every scenario file; exit 1 on any problem; with --line,
             also that the rich menus and aliases they name exist on the
             channel (LINE_CHANNEL_ACCESS_TOKEN)
  preview [DIR] [--base REF]
             print the flowchart and timeline of each scenario (Markdown);
             with --base, also what changed since that git revision
  schema [DIR]
             write DIR/scenario.schema.json for editors
  demo [DIR]
             simulate two weeks of sample users on an embedded Postgres
             (run mode no-line: LINE not called)
  timeline [DIR]
             print when an imagined user gets each step of each scenario
  import FILE.csv [--list NAME]
             users (a list) or events into the events table;
             row errors name the line; importing the same file twice adds nothing
  run [DIR] [--run-mode=send|plan-only|no-line]
             one tick: state from DATABASE_URL, or SUPABASE_URL + SUPABASE_SECRET_KEY,
             else the embedded PGlite in .data/pglite (PGLITE_DIR); LINE from
             LINE_CHANNEL_ACCESS_TOKEN. Run modes:
               send       ${RUN_MODE_MEANING.send}
                          (the default when LINE_CHANNEL_ACCESS_TOKEN is set)
               plan-only  ${RUN_MODE_MEANING['plan-only']}
               no-line    ${RUN_MODE_MEANING['no-line']}
                          (the default without a token)
             (--dry-run and --line-dry-run, deprecated: plan-only and no-line)
${REPORT_HELP}
  -h, --help   this text
`;

export async function main(argv: string[]): Promise<number> {
  // report and inspect parse their own arguments (src/commands/report-cli.ts).
  if (isReportCommand(argv[0])) return reportCli(argv, () => openStore(settingsFromEnv(), { openLocal: openPglite }));
  let parsed: ParsedCommand | undefined;
  try {
    parsed = parseCommand(argv, ['report', 'inspect']);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\nline-step-delivery --help lists the commands.\n`);
    return 1;
  }
  if (!parsed || parsed.help) {
    process.stdout.write(HELP);
    return parsed || argv.length ? 0 : 2;
  }
  const { command, dir } = parsed;
  const [path, kind] = command === 'import' ? ([parsed.file!, 'file'] as const) : ([dir, 'folder'] as const);
  // schema makes its folder: it is the first file of a new scenario folder.
  if (command !== 'schema' && !(await isKind(path, kind))) {
    const what = kind === 'file' ? 'the file' : 'the scenario folder';
    process.stderr.write(
      `line-step-delivery ${command}: ${what} "${path}" does not exist (looked for ${resolve(path)}).\n`,
    );
    return 1;
  }
  return RUNNERS[command](parsed);
}

/** What each command does, once its arguments are parsed and its path checked. */
const RUNNERS: Record<CommandName, (parsed: ParsedCommand) => Promise<number>> = {
  validate: checkScenarios,
  preview: checkScenarios,
  demo: ({ dir }) => runDemo({ dir }),
  timeline: printTimelines,
  import: importFile,
  run: runOneTick,
  schema: writeSchema,
};

/** validate prints how many problems (or valid scenarios); preview prints the Markdown. */
async function checkScenarios({ command, dir, base, line }: ParsedCommand): Promise<number> {
  const settings = settingsFromEnv();
  if (line && !settings.LINE_CHANNEL_ACCESS_TOKEN) {
    process.stderr.write(
      `line-step-delivery ${command} --line: set LINE_CHANNEL_ACCESS_TOKEN to read the rich menus.\n`,
    );
    return 1;
  }
  const lineCheck = line
    ? { line: { channelAccessToken: settings.LINE_CHANNEL_ACCESS_TOKEN!, baseURL: settings.LINE_API_BASE_URL } }
    : {};
  const outcome = await validateScenarios({ dir, ...(base ? { baseRef: base } : {}), ...lineCheck });
  if (!outcome.result.files.length) return noScenarioFiles(command, dir);
  for (const issue of outcome.result.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  // Asked to check on LINE and could not: the offline result stands, but the run fails.
  if (outcome.lineCheck && !outcome.lineCheck.checked) {
    process.stderr.write(`error: ${outcome.lineCheck.error}\n`);
    return 1;
  }
  if (outcome.schemaStale)
    process.stderr.write(
      `warning: ${join(dir, SCHEMA_FILE_NAME)} is missing or out of date: run "line-step-delivery schema".\n`,
    );
  if (command === 'preview') process.stdout.write(outcome.markdown);
  else
    process.stdout.write(
      outcome.result.issues.length
        ? `${outcome.result.issues.length} problem(s) found.\n`
        : `${outcome.result.scenarios.length} scenario(s) valid.\n`,
    );
  return outcome.result.issues.length ? 1 : 0;
}

async function printTimelines({ command, dir }: ParsedCommand): Promise<number> {
  const outcome = await validateScenarios({ dir });
  if (!outcome.result.files.length) return noScenarioFiles(command, dir);
  for (const issue of outcome.result.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  for (const { compiled } of outcome.result.scenarios) {
    process.stdout.write(`\n${compiled.scenario.name ?? compiled.id} (${compiled.id})\n`);
    const enteredAt = localToInstant(compiled.timezone, 2026, 1, 5, 14, 0);
    for (const e of timeline(compiled, { enteredAt, trigger: sampleTrigger(compiled, enteredAt) })) {
      process.stdout.write(
        `  day ${String(e.day).padStart(2)} ${formatLocal(e.at, compiled.timezone).slice(11)}  ${e.stepId.padEnd(20)} ${e.label}\n`,
      );
    }
  }
  return outcome.result.issues.length ? 1 : 0;
}

async function importFile(parsed: ParsedCommand): Promise<number> {
  const file = parsed.file!;
  const store = await openStore(settingsFromEnv(), { openLocal: openPglite });
  try {
    const r = await importCsv({
      file,
      list: parsed.list,
      store,
      progress: process.stderr.isTTY ? (n) => process.stderr.write(`\rrows: ${n}`) : undefined,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const e of r.errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
    process.stdout.write(
      `${r.rows} row(s): ${r.inserted} new event(s), ${r.unchanged} already imported, ${r.errors.length} with errors.\n`,
    );
    return r.errors.length ? 1 : 0;
  } finally {
    await store.close();
  }
}

async function runOneTick(parsed: ParsedCommand): Promise<number> {
  for (const warning of parsed.warnings) process.stderr.write(`${warning}\n`);
  const settings = settingsFromEnv();
  const { result, summary } = await tickCommand({
    settings,
    dir: parsed.dir,
    // A terminal without a token runs the tick without LINE, unless send is asked for.
    mode: parsed.runMode ?? (settings.LINE_CHANNEL_ACCESS_TOKEN ? 'send' : 'no-line'),
    openLocalStore: openPglite,
    now: Date.now,
    progress: process.stderr.isTTY ? (what, n) => process.stderr.write(`\r${what}: ${n}`) : undefined,
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(summary);
  return needsAPerson(result).length ? 1 : 0;
}

async function writeSchema({ dir }: ParsedCommand): Promise<number> {
  const path = join(dir, SCHEMA_FILE_NAME);
  await mkdir(dir, { recursive: true });
  await writeFile(path, scenarioJsonSchemaText());
  process.stdout.write(`wrote ${path}\n`);
  return 0;
}

/** A folder without scenario files is a mistake (the wrong folder, most likely), never "valid". */
function noScenarioFiles(command: string, dir: string): number {
  process.stderr.write(`line-step-delivery ${command}: no scenario files (*.json) in "${dir}" (${resolve(dir)}).\n`);
  return 1;
}

async function isKind(path: string, kind: 'file' | 'folder'): Promise<boolean> {
  const found = await stat(path).catch(() => undefined);
  return (kind === 'file' ? found?.isFile() : found?.isDirectory()) ?? false;
}
