// The three run modes through the action, in process (src/action/main.ts), against the real
// PostgreSQL server and the loopback LINE server: plan-only writes nothing and calls LINE
// zero times; no-line advances the state (the send is recorded, never repeated) and calls
// LINE zero times, with no token at all; send sends. The deprecated input dry-run still
// works, with a warning, and a run-mode it contradicts is refused.
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../support/run-action.js';
import { LineServer } from '../support/line-server.js';
import { serverStore } from '../support/db.js';
import { tableSnapshot } from '../support/snapshot.js';
import { toText } from '../support/scenarios.js';

const T0 = Date.parse('2026-11-25T01:00:00Z');
const MINUTE = 60_000;
const user = (n: number) => `U${String(n).padStart(32, '0')}`;
let line: LineServer;
let db: Awaited<ReturnType<typeof serverStore>>;
let run: () => Promise<void>;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();
const scenario = {
  id: 'cart',
  version: 1,
  entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
  steps: [{ id: 'reminder', type: 'message', messages: [{ type: 'text', text: 'still there?' }] }],
};

beforeAll(async () => {
  line = await new LineServer({ token: 'line-t0ken' }).start();
  db = await serverStore();
  const repo = await mkdtemp(join(tmpdir(), 'lsd-repo-'));
  await mkdir(join(repo, 'scenarios'));
  await writeFile(join(repo, 'scenarios/cart.json'), toText(scenario));
  process.chdir(repo);
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    INPUT_MODE: 'run',
    INPUT_SCENARIOS: 'scenarios',
    'INPUT_DATABASE-URL': db.url,
    'INPUT_LINE-API-BASE-URL': line.url,
  });
  ({ run } = await import('../../src/action/main.js'));
});

afterAll(async () => {
  process.chdir(savedCwd);
  process.env = savedEnv;
  await line.stop();
  await db.drop();
});

interface Tick {
  exitCode: number;
  log: string;
  summary: string;
  output: (name: string) => string | undefined;
}

/** One run of the action at `at`, with these inputs (the token unless given as ''). */
async function tick(at: number, inputs: Record<string, string>): Promise<Tick> {
  // One summary file for the whole test, emptied before each run: @actions/core keeps the
  // path it read first.
  const files = join(tmpdir(), `lsd-run-modes-${process.pid}`);
  await mkdir(files, { recursive: true });
  const summaryFile = join(files, 'summary.md');
  const outputFile = join(files, 'output.txt');
  await writeFile(summaryFile, '');
  await writeFile(outputFile, '');
  const given = { 'line-channel-access-token': line.token, ...inputs };
  const names = Object.keys(given).map((name) => `INPUT_${name.toUpperCase()}`);
  Object.assign(process.env, { GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile });
  process.env.LINE_STEP_DELIVERY_NOW = String(at);
  for (const [name, value] of Object.entries(given)) process.env[`INPUT_${name.toUpperCase()}`] = value;
  try {
    const { exitCode, stdout } = await runInProcess(run);
    const outputs = await readFile(outputFile, 'utf8');
    return {
      exitCode,
      log: stdout,
      summary: await readFile(summaryFile, 'utf8'),
      output: (name) => new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(outputs)?.[2],
    };
  } finally {
    for (const name of names) delete process.env[name];
  }
}

async function cartAbandoned(n: number, at: number): Promise<void> {
  await db.db.query(
    `insert into events (line_user_id, type, properties, occurred_at, source)
     values ($1, 'cart_abandoned', '{}', to_timestamp($2 / 1000.0), 'test')`,
    [user(n), at],
  );
}

const reminders = async (n: number) =>
  (
    await db.db.query<{ status: string }>(
      `select status from deliveries where line_user_id = $1 and step_id = 'reminder' order by id`,
      [user(n)],
    )
  ).map((r) => r.status);

test('the scenario starts: a first tick in the default run mode, send', async () => {
  const first = await tick(T0 - 5 * MINUTE, {});
  assert.equal(first.exitCode, 0, first.log);
  assert.match(first.summary, /^# LINE step delivery: tick in run mode send$/m);
  assert.match(first.log, /^run mode send \(state advances, LINE is called\)$/m);
});

test('plan-only: a what-if that writes nothing and calls LINE zero times', async () => {
  await cartAbandoned(1, T0 - MINUTE);
  const before = await tableSnapshot(db.db);
  const requests = line.requests.length;
  const plan = await tick(T0, { 'run-mode': 'plan-only' });
  assert.equal(plan.exitCode, 0, plan.log);
  assert.equal(plan.output('planned'), '1', plan.summary);
  assert.equal(plan.output('sent'), '0');
  assert.deepEqual(await tableSnapshot(db.db), before, 'every table hashes the same: nothing written');
  assert.equal(line.requests.length, requests, 'LINE was not called');
  assert.match(plan.summary, /^# LINE step delivery: tick in run mode plan-only$/m);
  assert.match(
    plan.summary,
    /run mode plan-only \(a what-if: nothing written, LINE not called\) · .* · LINE: not called/,
  );
  assert.match(plan.log, /^run mode plan-only: events 1, .*, would send 1$/m);
});

test('no-line: the state advances as if sent, LINE is called zero times, and no token is needed', async () => {
  const requests = line.requests.length;
  const noLine = await tick(T0, { 'run-mode': 'no-line', 'line-channel-access-token': '' });
  assert.equal(noLine.exitCode, 0, noLine.log);
  assert.equal(noLine.output('sent'), '1');
  assert.deepEqual(await reminders(1), ['sent'], 'the send is recorded');
  assert.equal(line.requests.length, requests, 'LINE was not called');
  assert.match(noLine.summary, /run mode no-line \(state advances, LINE not called: sends are recorded as if sent\)/);
  // The state advanced: the next real tick does not send the step again.
  const next = await tick(T0 + MINUTE, { 'run-mode': 'send' });
  assert.equal(next.exitCode, 0, next.log);
  assert.equal(next.output('sent'), '0');
  assert.equal(line.received.length, 0);
});

test('send: the step goes out to LINE; without a token it is refused, naming the other run modes', async () => {
  await cartAbandoned(2, T0 + MINUTE);
  const noToken = await tick(T0 + 2 * MINUTE, { 'line-channel-access-token': '' });
  assert.equal(noToken.exitCode, 1);
  assert.match(noToken.log, /::error::LINE_CHANNEL_ACCESS_TOKEN is not set: .*run mode no-line or plan-only/);
  const sent = await tick(T0 + 2 * MINUTE, { 'run-mode': 'send' });
  assert.equal(sent.exitCode, 0, sent.log);
  assert.equal(sent.output('sent'), '1');
  assert.deepEqual(
    line.received.map((r) => r.to),
    [user(2)],
  );
  assert.deepEqual(await reminders(2), ['sent']);
});

test('the deprecated input dry-run still works, with one warning; a run-mode it contradicts is refused', async () => {
  await cartAbandoned(3, T0 + 3 * MINUTE);
  const before = await tableSnapshot(db.db);
  const old = await tick(T0 + 4 * MINUTE, { 'dry-run': 'true' });
  assert.equal(old.exitCode, 0, old.log);
  assert.equal(old.output('planned'), '1');
  assert.deepEqual(await tableSnapshot(db.db), before, 'dry-run: true is plan-only: nothing written');
  const warnings = old.log.match(/^::warning::.*$/gm) ?? [];
  assert.deepEqual(warnings, [
    '::warning::input dry-run: true is deprecated: write run-mode: plan-only instead (it means the same).',
  ]);
  const both = await tick(T0 + 4 * MINUTE, { 'run-mode': 'send', 'dry-run': 'true' });
  assert.equal(both.exitCode, 1);
  assert.match(both.log, /::error::run-mode: send and input dry-run: true disagree: give one of run-mode: send, /);
  assert.deepEqual(await tableSnapshot(db.db), before, 'a refused run writes nothing');
  const unknown = await tick(T0 + 4 * MINUTE, { 'run-mode': 'dry' });
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.log, /::error::input run-mode must be send, plan-only or no-line, got "dry"/);
});
