// The action's report mode, in process: inputs as INPUT_* variables, against PostgreSQL
// and the loopback LINE server. The summary carries the funnels, the page is written and
// named by the report-file output, bad input fails the step with what to fix, and neither
// the summary, the log nor the page holds a user id or a message text.
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { runInProcess } from '../support/run-action.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineServer } from '../support/line-server.js';
import { serverStore } from '../support/db.js';
import { jst, writeCartWeek } from './fixture.js';

let db: Awaited<ReturnType<typeof serverStore>>;
let line: LineServer;
let dir: string;
let run: () => Promise<void>;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

beforeAll(async () => {
  line = await new LineServer({ token: 'line-t0ken' }).start();
  db = await serverStore();
  await writeCartWeek(db.store, db.db);
  dir = await mkdtemp(join(tmpdir(), 'lsd-report-'));
  process.chdir(dir);
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: 'schedule',
    INPUT_MODE: 'report',
    'INPUT_DATABASE-URL': db.url,
    'INPUT_LINE-API-BASE-URL': line.url,
    'INPUT_LINE-CHANNEL-ACCESS-TOKEN': 'line-t0ken',
    'INPUT_REPORT-HTML': 'report.html',
    LINE_STEP_DELIVERY_NOW: String(jst(25, 9, 30)),
  });
  ({ run } = await import('../../src/action/main.js'));
});

afterAll(async () => {
  process.chdir(savedCwd);
  process.env = savedEnv;
  await line.stop();
  await db.drop();
});

async function report(
  inputs: Record<string, string>,
): Promise<{ exitCode: number; summary: string; log: string; outputs: string }> {
  // One summary file for every run (@actions/core keeps the first path it sees), emptied before each.
  const summaryFile = join(dir, 'summary.md');
  await writeFile(summaryFile, '');
  await writeFile(`${summaryFile}.out`, '');
  for (const name of ['REPORT-FROM', 'REPORT-TO', 'ONLY-SCENARIO']) delete process.env[`INPUT_${name}`];
  Object.assign(process.env, { GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: `${summaryFile}.out` });
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
  const { exitCode, stdout } = await runInProcess(run);
  return {
    exitCode,
    summary: await readFile(summaryFile, 'utf8'),
    log: stdout,
    outputs: await readFile(`${summaryFile}.out`, 'utf8'),
  };
}

test('report mode: the funnels in the job summary, the page written and named by report-file, no user data anywhere', async () => {
  const r = await report({ 'report-from': '2026-11-16', 'report-to': '2026-11-22' });
  assert.equal(r.exitCode, 0, r.log);
  assert.match(r.summary, /^# LINE step delivery: report/);
  assert.match(r.summary, /## 2026-11-16 → 2026-11-22/);
  assert.match(
    r.summary,
    /x-axis \["reminder", "coupon", "last"\]\n {2}y-axis "recipients" 0 --> 4\n {2}bar \[4, 2, 0\]/,
  );
  assert.match(r.outputs, /^report-file<<\S+\nreport\.html\n/m);
  assert.ok(existsSync(join(dir, 'report.html')));
  const html = await readFile(join(dir, 'report.html'), 'utf8');
  assert.match(html, /data-chart="funnel" data-scenario="cart"/);
  // LINE was asked for each unit and day the week sent on (it has no figures for them).
  assert.equal(line.requests.filter((q) => q.path.startsWith('/v2/bot/insight/')).length, 3);
  assert.match(r.log, /2026-11-16 → 2026-11-22: entered 5, sent 6, goal reached 2/);
  for (const text of [r.summary, r.log, html]) {
    assert.doesNotMatch(text, /U[0-9a-f]{32}/, 'no LINE user id');
    assert.ok(!text.includes('secret'), 'no message text');
  }
});

test('report mode with no period: the last 7 and the last 30 days', async () => {
  const r = await report({});
  assert.equal(r.exitCode, 0, r.log);
  assert.match(r.summary, /## Last 7 days\n/);
  assert.match(r.summary, /## Last 30 days\n/);
});

test('report mode refuses bad input with what to fix: from after to, a period longer than LINE allows, an unknown scenario', async () => {
  const backwards = await report({ 'report-from': '2026-11-22', 'report-to': '2026-11-16' });
  assert.equal(backwards.exitCode, 1);
  assert.match(
    backwards.log,
    /::error::the period 2026-11-22 00:00 → 2026-11-17 00:00 \(Asia\/Tokyo\) is empty: from must be before to/,
  );
  const long = await report({ 'report-from': '2026-09-01', 'report-to': '2026-11-22' });
  assert.equal(long.exitCode, 1);
  assert.match(long.log, /::error::the period .* spans 83 days: LINE gives statistics per unit for at most 31/);
  const unknown = await report({ 'only-scenario': 'nope' });
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.log, /::error::there is no scenario "nope": the database knows cart, welcome/);
});
