// The commands that read the scenario files only: validate, preview, timeline, schema.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateScenarios } from '../commands/validate.js';
import { settingsFromEnv } from '../commands/config.js';
import { flagOption, textOption, type ParsedArgs } from '../commands/command-line.js';
import { formatIssue } from '../scenario/issues.js';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';
import { SCHEMA_FILE_NAME } from '../scenario/loader.js';
import { timeline } from '../planner/timeline.js';
import { formatLocal, localToInstant } from '../time/zoned.js';
import { sampleTrigger } from '../preview/markdown.js';
import { noScenarioFiles } from './folders.js';

/** validate prints how many problems (or valid scenarios); preview prints the Markdown. */
export async function checkScenarios(parsed: ParsedArgs, dir: string): Promise<number> {
  const { command } = parsed;
  const base = textOption(parsed, 'base');
  const line = flagOption(parsed, 'line');
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

export async function printTimelines(command: string, dir: string): Promise<number> {
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

/** schema makes its folder: it is the first file of a new scenario folder. */
export async function writeSchema(dir: string): Promise<number> {
  const path = join(dir, SCHEMA_FILE_NAME);
  await mkdir(dir, { recursive: true });
  await writeFile(path, scenarioJsonSchemaText());
  process.stdout.write(`wrote ${path}\n`);
  return 0;
}
