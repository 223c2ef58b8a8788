// The CLI's run command in its three run modes, in process, against the real PostgreSQL
// server and the loopback LINE server: the help names the modes; without a token the
// default is no-line (state advances, LINE not called), with one it is send; plan-only
// writes nothing; the deprecated flags still work with a warning.
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { LineServer } from '../support/line-server.js';
import { serverStore } from '../support/db.js';
import { tableSnapshot } from '../support/snapshot.js';
import { toText } from '../support/scenarios.js';

const user = (n: number) => `U${String(n).padStart(32, '0')}`;
let line: LineServer;
let db: Awaited<ReturnType<typeof serverStore>>;
let dir: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  line = await new LineServer().start();
  db = await serverStore();
  dir = join(await mkdtemp(join(tmpdir(), 'lsd-cli-')), 'scenarios');
  await mkdir(dir);
  const scenario = {
    id: 'cart',
    version: 1,
    entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
    steps: [{ id: 'reminder', type: 'message', messages: [{ type: 'text', text: 'still there?' }] }],
  };
  await writeFile(join(dir, 'cart.json'), toText(scenario));
  for (const name of ['SUPABASE_URL', 'SUPABASE_SECRET_KEY', 'LINE_CHANNEL_ACCESS_TOKEN']) delete process.env[name];
  process.env.DATABASE_URL = db.url;
});

afterAll(async () => {
  process.env = savedEnv;
  await line.stop();
  await db.drop();
});

/** main() with its stdout and stderr captured. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const write = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = (chunk: string) => ((out.stdout += chunk), true);
  process.stderr.write = (chunk: string) => ((out.stderr += chunk), true);
  try {
    return { code: await main(args), ...out };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
}

async function cartAbandoned(n: number): Promise<void> {
  await db.db.query(
    `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, 'cart_abandoned', '{}', now(), 'test')`,
    [user(n)],
  );
}

const sentTo = async () =>
  (await db.db.query<{ u: string }>(`select line_user_id as u from deliveries where status = 'sent' order by u`)).map(
    (r) => r.u,
  );

test('the help names the three run modes and what each does', async () => {
  const help = await cli('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /run \[DIR\] \[--run-mode=send\|plan-only\|no-line\]/);
  assert.match(help.stdout, /send {7}state advances, LINE is called/);
  assert.match(help.stdout, /plan-only {2}a what-if: nothing written, LINE not called/);
  assert.match(help.stdout, /no-line {4}state advances, LINE not called: sends are recorded as if sent/);
});

test('without a token: no-line by default; plan-only writes nothing; send is refused', async () => {
  const first = await cli('run', dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^# LINE step delivery: tick in run mode no-line$/m);
  await cartAbandoned(1);
  const before = await tableSnapshot(db.db);
  const plan = await cli('run', dir, '--run-mode=plan-only');
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /run mode plan-only \(a what-if: nothing written, LINE not called\)/);
  assert.match(plan.stdout, /\| cart \| reminder \| {2}\| 1 \|/, 'would send 1');
  assert.deepEqual(await tableSnapshot(db.db), before, 'nothing written');
  await assert.rejects(cli('run', dir, '--run-mode', 'send'), /LINE_CHANNEL_ACCESS_TOKEN is not set/);
  const noLine = await cli('run', dir);
  assert.equal(noLine.code, 0, noLine.stderr);
  assert.deepEqual(await sentTo(), [user(1)], 'the send is recorded as sent');
  assert.equal(line.requests.length, 0, 'LINE was not called');
});

test('with a token: send by default, to LINE', async () => {
  Object.assign(process.env, { LINE_CHANNEL_ACCESS_TOKEN: line.token, LINE_API_BASE_URL: line.url });
  try {
    await cartAbandoned(2);
    const sent = await cli('run', dir);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^# LINE step delivery: tick in run mode send$/m);
    assert.deepEqual(
      line.received.map((r) => r.to),
      [user(2)],
    );
  } finally {
    delete process.env.LINE_CHANNEL_ACCESS_TOKEN;
  }
});

test('the deprecated flags still work, each with a warning; contradictions and unknown modes are refused', async () => {
  await cartAbandoned(3);
  const before = await tableSnapshot(db.db);
  const old = await cli('run', dir, '--dry-run');
  assert.equal(old.code, 0, old.stderr);
  assert.equal(
    old.stderr,
    'line-step-delivery run: warning: --dry-run is deprecated: write --run-mode=plan-only instead (it means the same).\n',
  );
  assert.match(old.stdout, /tick in run mode plan-only/);
  assert.deepEqual(await tableSnapshot(db.db), before);
  const both = await cli('run', dir, '--dry-run', '--line-dry-run');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /run: --dry-run and --line-dry-run disagree: give one of --run-mode=send, /);
  const bogus = await cli('run', dir, '--run-mode=later');
  assert.equal(bogus.code, 1);
  assert.match(bogus.stderr, /run: --run-mode must be send, plan-only or no-line, got "later"/);
  const noLine = await cli('run', dir, '--line-dry-run');
  assert.equal(noLine.code, 0, noLine.stderr);
  assert.match(noLine.stderr, /--line-dry-run is deprecated: write --run-mode=no-line instead/);
  assert.deepEqual(await sentTo(), [user(1), user(2), user(3)]);
});
