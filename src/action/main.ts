// The GitHub Action: reads inputs, runs the mode, writes the job summary and outputs.
// Exit code is non-zero only when a person must act.
import * as core from '@actions/core';
import { validateScenarios } from '../commands/validate.js';
import { formatJsonPath } from '../scenario/json-source.js';
import { openSender, openStore, settingsFromEnv, type Settings } from '../commands/config.js';
import { testSend } from '../commands/test-send.js';
import { loadScenarioDir } from '../scenario/loader.js';
import { importCsv } from '../commands/import.js';
import { tickCommand } from '../commands/tick-command.js';
import { needsAPerson } from '../report/summary.js';
import { parseLatenessAlertSeconds } from '../report/lateness.js';
import { publicErrorMessage } from '../contract/public-error.js';
import { parseNow } from '../time/now.js';
import { isValidTimeZone } from '../time/zoned.js';
import { alertIssueAfterTick, commentPreview, pullRequestBase } from '../github/action-steps.js';
import { writeFile } from 'node:fs/promises';
import {
  describeRunMode,
  parseDatabasePlan,
  parseRetentionDays,
  resolveRunMode,
  type RunMode,
  type RunModeAlias,
} from '../engine/index.js';
import { reportCommand } from '../commands/report.js';
import { mdText } from '../contract/markdown-text.js';
import { previewForecast } from '../commands/forecast.js';
import { doctorMode } from './doctor-mode.js';

/** Inputs win over environment variables of the same meaning; secrets are masked. */
function settings(): Settings {
  const env = settingsFromEnv();
  const input = (name: string, secret = false) => {
    const v = core.getInput(name).trim();
    if (v && secret) core.setSecret(v);
    return v || undefined;
  };
  const s: Settings = {
    SUPABASE_URL: input('supabase-url') ?? env.SUPABASE_URL,
    SUPABASE_SECRET_KEY: input('supabase-secret-key', true) ?? env.SUPABASE_SECRET_KEY,
    DATABASE_URL: input('database-url', true) ?? env.DATABASE_URL,
    LINE_CHANNEL_ACCESS_TOKEN: input('line-channel-access-token', true) ?? env.LINE_CHANNEL_ACCESS_TOKEN,
    LINE_API_BASE_URL: input('line-api-base-url') ?? env.LINE_API_BASE_URL,
    CLICK_BASE_URL: input('click-base-url') ?? env.CLICK_BASE_URL,
    CLICK_SIGNING_SECRET: input('click-signing-secret', true) ?? env.CLICK_SIGNING_SECRET,
    LINE_PUSH_PER_SECOND: input('line-push-per-second') ?? env.LINE_PUSH_PER_SECOND,
    LINE_MULTICAST_PER_SECOND: input('line-multicast-per-second') ?? env.LINE_MULTICAST_PER_SECOND,
    LINE_REQUESTS_IN_FLIGHT: input('line-requests-in-flight') ?? env.LINE_REQUESTS_IN_FLIGHT,
  };
  for (const secret of [s.SUPABASE_SECRET_KEY, s.DATABASE_URL, s.LINE_CHANNEL_ACCESS_TOKEN, s.CLICK_SIGNING_SECRET])
    if (secret) core.setSecret(secret);
  return s;
}

/** Like core.getBooleanInput, but an absent input is false (the runner fills defaults; other callers may not). */
function booleanInput(name: string): boolean {
  const v = core.getInput(name).trim();
  if (v === '') return false;
  if (/^(true|True|TRUE)$/.test(v)) return true;
  if (/^(false|False|FALSE)$/.test(v)) return false;
  throw new Error(`input ${name} must be true or false, got "${v}"`);
}

function numberInput(name: string): number | undefined {
  const v = core.getInput(name).trim();
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`input ${name} must be a whole number, got "${v}"`);
  return n;
}

function frequencyCap(): { perDay: number; timezone: string } | undefined {
  const perDay = numberInput('frequency-cap');
  if (perDay === undefined || perDay === 0) return undefined;
  const timezone = core.getInput('frequency-cap-timezone').trim() || 'Asia/Tokyo';
  if (!isValidTimeZone(timezone))
    throw new Error(`frequency-cap-timezone "${timezone}" is not an IANA time zone, like Asia/Tokyo`);
  return { perDay, timezone };
}

async function testSendMode(): Promise<void> {
  const scenarioId = core.getInput('only-scenario').trim();
  if (!scenarioId) throw new Error('mode test-send needs only-scenario: the scenario to send');
  const loaded = await loadScenarioDir(core.getInput('scenarios') || 'scenarios');
  const found = loaded.scenarios.find((s) => s.scenario.id === scenarioId);
  if (!found) throw new Error(`there is no valid scenario "${scenarioId}"`);
  const recipients = core
    .getInput('test-recipients')
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const r of recipients) core.setSecret(r);
  const sampleText = core.getInput('sample').trim();
  const sample = sampleText ? (JSON.parse(sampleText) as Parameters<typeof testSend>[0]['sample']) : undefined;
  const s = settings();
  const sender = openSender(s, { mode: 'send' });
  const r = await testSend({
    compiled: found.compiled,
    stepId: core.getInput('step').trim() || undefined,
    recipients,
    sample,
    sender,
  });
  // LINE's answers are outside text: escaped like any in Markdown.
  const lines = r.steps.map((x) => `| ${mdText(x.stepId)} | ${x.outcome} | ${mdText(x.error ?? '')} |`);
  await core.summary
    .addRaw(
      `# Test send: ${mdText(scenarioId)}\n\nTo ${recipients.length} staff account(s); enrollments untouched.\n\n| step | outcome | error |\n|---|---|---|\n${lines.join('\n')}\n`,
    )
    .write();
  if (r.steps.some((x) => x.outcome !== 'sent'))
    core.setFailed('some test messages were not sent: see the job summary');
}

async function importMode(): Promise<void> {
  const file = core.getInput('file').trim();
  if (!file) throw new Error('mode import needs the input file (a CSV path in the repository)');
  // Sets up a new database; one set up before is only checked (import never moves a schema forward).
  const store = await openStore(settings(), { access: 'set-up-new' });
  try {
    const r = await importCsv({ file, list: core.getInput('list').trim() || undefined, store });
    for (const e of r.errors) core.error(e.message, { file, startLine: e.line, title: 'import' });
    await core.summary
      .addRaw(
        `# Import\n\n${r.rows} row(s): ${r.inserted} new event(s), ${r.unchanged} already imported, ${r.errors.length} with errors.\n`,
      )
      .write();
    core.setOutput('imported', r.inserted);
    if (r.errors.length) core.setFailed(`${r.errors.length} row(s) could not be imported: see the annotations.`);
  } finally {
    await store.close();
  }
}

/**
 * The run mode: input run-mode, or the deprecated input dry-run (true is plan-only, false is
 * send), which warns once. Neither has a default in action.yml, so that given can be told
 * from not given.
 */
function runModeInput(): RunMode {
  const dry = core.getInput('dry-run').trim();
  const aliases: RunModeAlias[] = dry
    ? [{ given: `input dry-run: ${dry}`, mode: booleanInput('dry-run') ? 'plan-only' : 'send' }]
    : [];
  return resolveRunMode({
    value: core.getInput('run-mode').trim() || undefined,
    name: 'input run-mode',
    write: (m) => `run-mode: ${m}`,
    aliases,
    fallback: 'send',
    warn: (message) => core.warning(message),
  });
}

async function tickMode(mode: RunMode): Promise<void> {
  const asOf = core.getInput('as-of').trim();
  if (asOf && mode !== 'plan-only')
    throw new Error('as-of works only with run-mode: plan-only (a what-if, which writes nothing)');
  const fixed = asOf ? parseNow(asOf, 'as-of') : parseNow(process.env.LINE_STEP_DELIVERY_NOW, 'LINE_STEP_DELIVERY_NOW');
  core.info(describeRunMode(mode));
  const latenessAlertSeconds = parseLatenessAlertSeconds(core.getInput('lateness-alert-seconds'));
  const { result, summary } = await tickCommand({
    settings: settings(),
    dir: core.getInput('scenarios') || 'scenarios',
    mode,
    now: fixed !== undefined ? () => fixed : Date.now,
    onlyScenario: core.getInput('only-scenario').trim() || undefined,
    maxMessages: numberInput('max-messages'),
    shardIndex: numberInput('shard-index'),
    shardCount: numberInput('shard-count'),
    quotaReserve: numberInput('quota-reserve'),
    retentionDays: parseRetentionDays(core.getInput('retention-days'), 'input retention-days'),
    databasePlan: parseDatabasePlan(core.getInput('database-plan'), 'input database-plan'),
    frequencyCap: frequencyCap(),
    intervalMinutes: numberInput('schedule-minutes'),
    latenessAlertSeconds,
    trigger: process.env.GITHUB_EVENT_NAME,
  });
  await core.summary.addRaw(summary).write();
  const c = result.counts;
  core.setOutput('sent', c.total('sent'));
  core.setOutput('planned', c.total('planned'));
  core.setOutput('enrolled', c.total('enrolled'));
  core.setOutput('failed', c.total('failed'));
  core.setOutput('deferred', c.total('deferred'));
  core.setOutput('needs-review', result.attention.needsReview);
  core.info(
    `run mode ${mode}: events ${c.eventsTaken}, enrolled ${c.total('enrolled')}, sent ${c.total('sent')}, deferred ${c.total('deferred')}, failed ${c.total('failed')}${mode === 'plan-only' ? `, would send ${c.total('planned')}` : ''}`,
  );
  if (c.eventsSetAside)
    core.warning(`${c.eventsSetAside} event(s) were set aside as malformed: events.status_reason says why.`);
  const reasons = needsAPerson(result, { latenessAlertSeconds, now: fixed ?? Date.now() });
  await alertIssueAfterTick({ reasons, failures: c.failures, at: fixed ?? Date.now(), mode });
  if (reasons.length) core.setFailed(reasons.join(' '));
}

/** report: funnels and conversions for a period as the job summary, and the HTML page as a file (counts only). */
async function reportMode(): Promise<void> {
  const s = settings();
  const outcome = await reportCommand({
    openStore: () => openStore(s),
    line: { channelAccessToken: s.LINE_CHANNEL_ACCESS_TOKEN, baseURL: s.LINE_API_BASE_URL },
    now: parseNow(process.env.LINE_STEP_DELIVERY_NOW, 'LINE_STEP_DELIVERY_NOW') ?? Date.now(),
    from: core.getInput('report-from').trim() || undefined,
    to: core.getInput('report-to').trim() || undefined,
    scenarioId: core.getInput('only-scenario').trim() || undefined,
    databasePlan: parseDatabasePlan(core.getInput('database-plan'), 'input database-plan'),
  });
  const file = core.getInput('report-html').trim() || 'line-step-delivery-report.html';
  await writeFile(file, outcome.html);
  await core.summary.addRaw(outcome.markdown).write();
  core.setOutput('report-file', file);
  for (const r of outcome.reports) {
    core.info(
      `${r.period.label}: entered ${r.totals.entered}, sent ${r.totals.sent}, goal reached ${r.totals.goalReached}`,
    );
  }
  for (const note of outcome.notes) if (note.startsWith('⚠️')) core.warning(note.replace(/^⚠️\s*/, ''));
  core.info(`the report page: ${file}`);
}

async function validateMode(): Promise<void> {
  const dir = core.getInput('scenarios') || 'scenarios';
  // On a pull request the base commit comes from the event; base-ref, when given, wins.
  const baseRef = core.getInput('base-ref') || (await pullRequestBase());
  // With a channel token, the rich menus the scenarios name are checked on LINE too.
  const s = settings();
  const line = s.LINE_CHANNEL_ACCESS_TOKEN
    ? { line: { channelAccessToken: s.LINE_CHANNEL_ACCESS_TOKEN, baseURL: s.LINE_API_BASE_URL } }
    : {};
  const outcome = await validateScenarios({ dir, ...(baseRef ? { baseRef } : {}), ...line });
  if (outcome.lineCheck && !outcome.lineCheck.checked) core.error(outcome.lineCheck.error);
  for (const issue of outcome.result.issues) {
    // Annotations show on the PR's "Files changed" tab, at the line.
    core.error(`${formatJsonPath(issue.path)}: ${issue.message}`, {
      title: `scenario ${issue.rule}`,
      file: issue.file,
      startLine: issue.line,
      startColumn: issue.column,
    });
  }
  if (outcome.schemaStale)
    core.warning(
      `${dir}/scenario.schema.json is missing or out of date: run "npx line-step-delivery schema" and commit it.`,
    );
  // With a database the check can read: the next 30 days' messages, and what this change adds or removes.
  const forecast = await previewForecast({ settings: s, dir, baseRef: baseRef || undefined, now: Date.now() });
  const commentNotice = await commentPreview(outcome.markdown + forecast);
  await core.summary.addRaw(commentNotice + outcome.markdown + forecast).write();
  core.setOutput('scenarios', outcome.result.scenarios.length);
  core.setOutput('problems', outcome.result.issues.length);
  if (outcome.lineCheck && !outcome.lineCheck.checked)
    core.setFailed('the rich menus could not be checked on LINE: see the error above.');
  else if (outcome.result.issues.length)
    core.setFailed(
      `${outcome.result.issues.length} problem(s) in the scenarios: see the annotations and the job summary.`,
    );
  // A check that found nothing to check must not pass: the scenarios input points elsewhere.
  else if (!outcome.result.scenarios.length)
    core.setFailed(
      `no scenario files (*.json) in "${dir}": check the scenarios input (the folder, from the repository's root).`,
    );
}

export async function run(): Promise<void> {
  const mode = core.getInput('mode') || 'run';
  let runMode: RunMode | undefined;
  try {
    switch (mode) {
      case 'validate':
        await validateMode();
        break;
      case 'run':
        runMode = runModeInput();
        await tickMode(runMode);
        break;
      case 'import':
        await importMode();
        break;
      case 'test-send':
        await testSendMode();
        break;
      case 'report':
        await reportMode();
        break;
      case 'doctor':
        await doctorMode(settings());
        break;
      default:
        core.setFailed(
          `mode "${mode}" is not available in this version: use run, validate, import, test-send, report or doctor.`,
        );
    }
  } catch (error) {
    // The log, the summary and an alert issue are public: a database error loses the values it quotes.
    const message = publicErrorMessage(error);
    // A tick that could not run (the database unreachable, an invalid scenario) needs a person too.
    if (mode === 'run') await alertIssueAfterTick({ reasons: [message], failures: [], at: Date.now(), mode: runMode });
    core.setFailed(message);
  }
}
