// LINE's monthly limit, however the tick learns it, needs a person: whole ticks of the action
// (in process, src/action/main.ts) against the real PostgreSQL server, the loopback LINE API
// and the loopback GitHub API, with alert-issue: true. Learned from LINE's quota endpoints
// before sending (the month used up, or too little left for a batch), or from its 429
// "monthly limit" while sending: the tick exits 1, says why (never "held back by the quota
// reserve" when no reserve was set), opens the alert issue and keeps it open while the limit
// holds; the first tick after the quota is back sends and closes it. Failures are counted in
// recipients, with LINE's requests apart.
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../support/run-action.js';
import { GitHubServer } from '../support/github-server.js';
import { LineServer } from '../support/line-server.js';
import { serverStore } from '../support/db.js';
import { toText } from '../support/scenarios.js';

const T0 = Date.parse('2026-11-25T01:00:00Z');
const MINUTE = 60_000;
const user = (n: number) => `U${String(n).padStart(32, '0')}`;
const scenario = {
  id: 'cart',
  version: 1,
  entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
  steps: [{ id: 'reminder', type: 'message', messages: [{ type: 'text', text: 'still there?' }] }],
};
const LIST = 'GET /repos/shop/line/issues?labels=line-step-delivery&state=open&per_page=100';
const savedEnv = { ...process.env };
const savedCwd = process.cwd();
let run: () => Promise<void>;
let github: GitHubServer;
let line: LineServer;
let db: Awaited<ReturnType<typeof serverStore>>;
let clock = T0;
let summaryFile = '';

beforeAll(async () => {
  // One GitHub for the file: @actions/github reads its URL once, at import.
  github = await new GitHubServer().start();
  summaryFile = join(await mkdtemp(join(tmpdir(), 'lsd-quota-run-')), 'summary.md');
  const repo = await mkdtemp(join(tmpdir(), 'lsd-quota-'));
  await mkdir(join(repo, 'scenarios'));
  await writeFile(join(repo, 'scenarios/cart.json'), toText(scenario));
  process.chdir(repo);
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_API_URL: github.url,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: `${summaryFile}.out`,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'shop/line',
    GITHUB_RUN_ID: '7',
    INPUT_MODE: 'run',
    INPUT_SCENARIOS: 'scenarios',
    'INPUT_ALERT-ISSUE': 'true',
    'INPUT_GITHUB-TOKEN': 'ghs_t0ken',
    'INPUT_LINE-CHANNEL-ACCESS-TOKEN': 'line-t0ken',
  });
  ({ run } = await import('../../src/action/main.js'));
});

afterEach(async () => {
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
  github.labels.clear();
  await line.stop();
  await db.drop();
});

afterAll(async () => {
  await github.stop();
  process.chdir(savedCwd);
  process.env = savedEnv;
});

/** A fresh database, LINE with this monthly limit and usage, GitHub; the scenario's first run. */
async function setup(monthlyLimit: number, usage: number): Promise<void> {
  line = await new LineServer({ token: 'line-t0ken', monthlyLimit }).start();
  line.usage = usage;
  db = await serverStore();
  Object.assign(process.env, {
    'INPUT_DATABASE-URL': db.url,
    'INPUT_LINE-API-BASE-URL': line.url,
  });
  clock = T0 - 5 * MINUTE;
  const first = await tick([]);
  assert.equal(first.exitCode, 0, first.log);
}

/** One tick of the action, after carts of these users were abandoned a minute before. */
async function tick(carts: number[]): Promise<{ exitCode: number; log: string; summary: string }> {
  clock += 5 * MINUTE;
  for (const n of carts)
    await db.db.query(
      `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, 'cart_abandoned', '{}', to_timestamp($2 / 1000.0), 'test')`,
      [user(n), clock - MINUTE],
    );
  // (@actions/core keeps the summary file's path once read: one file, emptied before each tick.)
  await writeFile(summaryFile, '');
  await writeFile(`${summaryFile}.out`, '');
  process.env.LINE_STEP_DELIVERY_NOW = String(clock);
  const { exitCode, stdout } = await runInProcess(run);
  const summary = await readFile(summaryFile, 'utf8');
  return { exitCode, summary, log: `${summary}\n${stdout}` };
}

const pendingBatches = async () =>
  Number(
    (await db.db.query<{ n: string }>(`select count(*)::text as n from outbox_batches where status = 'pending'`))[0]!.n,
  );

test("LINE's quota endpoints show the month used up: no send, needs a person, the alert stays open until the quota is back", async () => {
  await setup(100, 100);
  const used = await tick([1, 2, 3]);
  assert.equal(used.exitCode, 1, used.log);
  assert.match(used.summary, /## ❗ Needs a person/);
  assert.match(used.summary, /the LINE monthly message limit is reached \(100 of 100 used\)/);
  assert.doesNotMatch(used.summary, /quota reserve|Nothing needs a person/);
  assert.equal(line.received.length, 0, 'nothing was sent');
  assert.ok((await pendingBatches()) > 0, 'the batches wait, pending');
  // The next tick learns it the same way: the issue is updated, never closed.
  const still = await tick([]);
  assert.equal(still.exitCode, 1, still.log);
  assert.deepEqual(
    github.issues.map((i) => i.state),
    ['open'],
  );
  assert.match(github.issues[0]!.body, /the LINE monthly message limit is reached/);
  // A new month: the quota is back; the held batch goes out and the issue is closed.
  line.usage = 0;
  const back = await tick([]);
  assert.equal(back.exitCode, 0, back.log);
  assert.equal(line.received.length, 3);
  assert.deepEqual(
    github.issues.map((i) => i.state),
    ['closed'],
  );
  assert.equal(github.calls().filter((c) => c === 'POST /repos/shop/line/issues').length, 1, 'one issue');
});

test("too little left for a batch: held by LINE's monthly limit (not the reserve), needs a person", async () => {
  await setup(101, 100);
  const short = await tick([1, 2, 3]);
  assert.equal(short.exitCode, 1, short.log);
  assert.match(short.summary, /Held back by LINE's monthly limit: 3 recipient\(s\), left pending\./);
  assert.match(short.summary, /the LINE monthly message limit is reached \(100 of 101 used\); 3 recipient\(s\) held/);
  assert.doesNotMatch(short.summary, /quota reserve/);
  assert.equal(github.issues.length, 1);
  assert.equal(github.issues[0]!.state, 'open');
});

test('a 429 "monthly limit" while sending: needs a person, the alert opens; failures elsewhere count recipients', async () => {
  await setup(1_000_000, 0);
  const monthly = { kind: 'status' as const, status: 429, body: { message: 'You have reached your monthly limit.' } };
  line.faultsFor.set(user(1), monthly);
  const limited = await tick([1]);
  assert.equal(limited.exitCode, 1, limited.log);
  assert.match(limited.summary, /the LINE monthly message limit is reached/);
  assert.doesNotMatch(limited.summary, /quota reserve|Nothing needs a person/);
  assert.equal(github.issues.length, 1);
  assert.deepEqual(github.calls().slice(0, 4), [
    LIST,
    LIST,
    'POST /repos/shop/line/labels',
    'POST /repos/shop/line/issues',
  ]);
  assert.match(github.issues[0]!.body, /the LINE monthly message limit is reached/);
  // A refused multicast of three is three recipients in one LINE request, in the summary and the issue.
  line.faultsFor.clear();
  const refusal = { kind: 'status' as const, status: 400, body: { message: 'The request body has 1 error(s)' } };
  line.faultsFor.set(user(11), refusal);
  const failed = await tick([11, 12, 13]);
  assert.equal(failed.exitCode, 1, failed.log);
  assert.match(failed.summary, /3 recipient\(s\) did not get their step \(1 LINE request\(s\) refused\)/);
  assert.match(failed.summary, /\| cart \| reminder \| 3 \| 1 \| The request body has 1 error\(s\) \|/);
  const body = github.issues[0]!.body;
  assert.match(body, /3 recipient\(s\) did not get their step \(1 LINE request\(s\) refused\)/);
  assert.match(body, /\| cart \| reminder \| 3 \| 1 \| The request body has 1 error\(s\) \|/);
});
