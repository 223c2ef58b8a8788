// The command line: the same jobs as the action, for a terminal.
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateScenarios } from '../commands/validate.js';
import { formatIssue } from '../scenario/issues.js';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';
import { SCHEMA_FILE_NAME } from '../scenario/loader.js';
import { timeline } from '../planner/timeline.js';
import { runDemo } from '../demo/demo.js';
import { tickCommand } from '../commands/tick-command.js';
import { openStore, settingsFromEnv } from '../config.js';
import { importCsv } from '../commands/import.js';
import { needsAPerson } from '../report/summary.js';
import { formatLocal, localToInstant } from '../time/zoned.js';
import { sampleTrigger } from '../preview/markdown.js';
import { isReportCommand, REPORT_HELP, reportCli } from '../commands/report-cli.js';

const HELP = `line-step-delivery: LINE step delivery from scenario files

Usage: line-step-delivery <command> [options]

Commands:
  validate   check every scenario file; exit 1 on any problem
  preview    print the flowchart and timeline of each scenario (Markdown)
  schema     write scenarios/scenario.schema.json for editors
  demo       simulate two weeks of sample users on an embedded Postgres, LINE in dry run
  timeline   print when an imagined user gets each step of each scenario
  import     FILE.csv [--list NAME]: users (a list) or events into the events table;
             row errors name the line; importing the same file twice adds nothing
  run        one tick: state from DATABASE_URL, or SUPABASE_URL + SUPABASE_SECRET_KEY,
             else the embedded PGlite in .data/pglite; LINE from LINE_CHANNEL_ACCESS_TOKEN,
             else dry run
${REPORT_HELP}
Options:
  --scenarios DIR   the scenario folder (default: scenarios)
  --base REF        validate/preview: also show what changed since this git revision
  --dry-run         run: plan only; nothing is sent or changed
  --line-dry-run    run: advance state but do not call LINE
  -h, --help        this text
`;

export async function main(argv: string[]): Promise<number> {
  // report and inspect parse their own arguments (src/commands/report-cli.ts).
  if (isReportCommand(argv[0])) return reportCli(argv, () => openStore(settingsFromEnv(), { allowLocal: true }));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenarios: { type: 'string', default: 'scenarios' },
      base: { type: 'string' },
      'dry-run': { type: 'boolean' },
      list: { type: 'string' },
      'line-dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'validate':
    case 'preview': {
      const outcome = await validateScenarios({ dir: values.scenarios, ...(values.base ? { baseRef: values.base } : {}) });
      for (const issue of outcome.result.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      if (outcome.schemaStale) process.stderr.write(`warning: ${join(values.scenarios, SCHEMA_FILE_NAME)} is missing or out of date: run "line-step-delivery schema".\n`);
      if (command === 'preview') process.stdout.write(outcome.markdown);
      else process.stdout.write(outcome.result.issues.length ? `${outcome.result.issues.length} problem(s) found.\n` : `${outcome.result.scenarios.length} scenario(s) valid.\n`);
      return outcome.result.issues.length ? 1 : 0;
    }
    case 'demo':
      return runDemo({ dir: values.scenarios });
    case 'timeline': {
      const outcome = await validateScenarios({ dir: values.scenarios });
      for (const issue of outcome.result.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      for (const { compiled } of outcome.result.scenarios) {
        process.stdout.write(`\n${compiled.scenario.name ?? compiled.id} (${compiled.id})\n`);
        const enteredAt = localToInstant(compiled.timezone, 2026, 1, 5, 14, 0);
        for (const e of timeline(compiled, { enteredAt, trigger: sampleTrigger(compiled, enteredAt) })) {
          process.stdout.write(`  day ${String(e.day).padStart(2)} ${formatLocal(e.at, compiled.timezone).slice(11)}  ${e.stepId.padEnd(20)} ${e.label}\n`);
        }
      }
      return outcome.result.issues.length ? 1 : 0;
    }
    case 'import': {
      const file = positionals[1];
      if (!file) {
        process.stderr.write('usage: line-step-delivery import FILE.csv [--list NAME]\n');
        return 2;
      }
      const store = await openStore(settingsFromEnv(), { allowLocal: true });
      try {
        const r = await importCsv({ file, list: values.list, store, progress: process.stderr.isTTY ? (n) => process.stderr.write(`\rrows: ${n}`) : undefined });
        if (process.stderr.isTTY) process.stderr.write('\n');
        for (const e of r.errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
        process.stdout.write(`${r.rows} row(s): ${r.inserted} new event(s), ${r.unchanged} already imported, ${r.errors.length} with errors.\n`);
        return r.errors.length ? 1 : 0;
      } finally {
        await store.close();
      }
    }
    case 'run': {
      const { result, summary } = await tickCommand({
        settings: settingsFromEnv(),
        dir: values.scenarios,
        planOnly: values['dry-run'] ?? false,
        dryRunSender: values['line-dry-run'] ?? false,
        allowLocalStore: true,
        requireToken: false,
        now: Date.now,
        progress: process.stderr.isTTY ? (what, n) => process.stderr.write(`\r${what}: ${n}`) : undefined,
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(summary);
      return needsAPerson(result).length ? 1 : 0;
    }
    case 'schema': {
      const path = join(values.scenarios, SCHEMA_FILE_NAME);
      await writeFile(path, scenarioJsonSchemaText());
      process.stdout.write(`wrote ${path}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
