// The action as a runner starts it: `uses: owner/line-step-delivery@v1` checks out the
// repository's committed files, with no node_modules, and runs `node dist/index.js` with the
// inputs as INPUT_* variables. Every mode runs here from such a copy, against the real
// PostgreSQL server and the loopback LINE server.
import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { actionOutput, bareCheckout, runAction, type RunActionOptions } from '../support/run-action.js';
import { baseScenario, toText } from '../support/scenarios.js';
import { tableSnapshot } from '../support/snapshot.js';
import { localToInstant, DAY, HOUR, MINUTE } from '../../src/time/zoned.js';

// Inside every sample's send window.
const T0 = localToInstant('Asia/Tokyo', 2026, 11, 23, 11, 0);
const U = (name: string) => `U${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`;

let checkout: Awaited<ReturnType<typeof bareCheckout>>;
let db: Awaited<ReturnType<typeof serverStore>>;
let line: LineServer;
/** The action run from the copy, in the copy (the runner's workspace is the user's repository). */
let inCopy: RunActionOptions;
let database: Record<string, string>;

beforeAll(async () => {
  checkout = await bareCheckout();
  db = await serverStore();
  line = await new LineServer({ now: () => T0 }).start();
  inCopy = { dir: checkout.dir, cwd: checkout.dir };
  database = { 'database-url': db.url, 'line-channel-access-token': line.token, 'line-api-base-url': line.url };
});

afterAll(async () => {
  await line?.stop();
  await db?.drop();
  await checkout?.remove();
});

test('the copy is bare: no node_modules anywhere up the tree, dist/index.js present', () => {
  for (let dir = checkout.dir; ; dir = join(dir, '..')) {
    assert.equal(existsSync(join(dir, 'node_modules')), false, `${dir} has node_modules`);
    if (dir === join(dir, '..')) break;
  }
  assert.ok(existsSync(join(checkout.dir, 'dist/index.js')));
});

test('validate: the sample scenarios pass, given as an absolute folder', async () => {
  const run = await runAction({ mode: 'validate', scenarios: join(checkout.dir, 'scenarios') }, inCopy);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.summary, /✅ \d+ scenario\(s\) valid/);
  assert.equal(actionOutput(run, 'problems'), '0');
  assert.ok(Number(actionOutput(run, 'scenarios')) >= 13);
});

test('validate: a broken scenario fails the check with an annotation at its file and line', async () => {
  await mkdir(join(checkout.dir, 'broken'), { recursive: true });
  const broken = baseScenario();
  (broken.steps[0] as { next?: string }).next = 'secnod';
  const text = toText(broken);
  await writeFile(join(checkout.dir, 'broken/cart.json'), text);
  const run = await runAction({ mode: 'validate', scenarios: 'broken' }, inCopy);
  assert.equal(run.code, 1);
  const lineNo = text.split('\n').findIndex((l) => l.includes('"secnod"')) + 1;
  assert.match(
    run.stdout,
    new RegExp(`::error title=scenario unknown-step,file=broken/cart.json,line=${lineNo},col=\\d+::`),
  );
  assert.equal(actionOutput(run, 'problems'), '1');
});

test('run without a database refuses, naming the inputs to set; the deprecated dry-run warns once', async () => {
  const run = await runAction({ mode: 'run', 'dry-run': 'true' }, inCopy);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /::error::no database: pass supabase-url and supabase-secret-key .* or database-url/);
  assert.deepEqual(run.stdout.match(/^::warning::.*$/gm), [
    '::warning::input dry-run: true is deprecated: write run-mode: plan-only instead (it means the same).',
  ]);
});

test('import: a CSV of events at an absolute path becomes events, once', async () => {
  const csv = join(checkout.dir, 'events.csv');
  const at = new Date(T0 - 5 * MINUTE).toISOString();
  const rows = [
    ['follower', 'follow', ''],
    ['vip-1', 'list_added', 'vip-2026'],
    ['vip-2', 'list_added', 'vip-2026'],
  ];
  await writeFile(
    csv,
    `line_user_id,type,occurred_at,prop_list\n${rows.map(([who, type, list]) => `${U(who!)},${type},${at},${list}`).join('\n')}\n`,
  );
  const first = await runAction({ mode: 'import', file: csv, ...database }, inCopy);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(actionOutput(first, 'imported'), '3');
  const again = await runAction({ mode: 'import', file: 'events.csv', ...database }, inCopy);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(actionOutput(again, 'imported'), '0');
});

test('run: send delivers to the loopback LINE server; plan-only plans the next steps, writes nothing, calls LINE zero times; no-line advances without LINE', async () => {
  const tickAt = async (at: number, inputs: Record<string, string> = {}) =>
    runAction({ mode: 'run', ...inputs, ...database }, { ...inCopy, env: { LINE_STEP_DELIVERY_NOW: String(at) } });
  // The scenarios' first run, before the imported events: events from before it never enroll.
  const activation = await tickAt(T0 - HOUR);
  assert.equal(activation.code, 0, activation.stdout + activation.stderr);
  assert.equal(actionOutput(activation, 'sent'), '0');
  const first = await tickAt(T0);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(actionOutput(first, 'sent'), '3'); // the follower's welcome and the two VIPs' invite
  const to = new Set(line.received.map((r) => r.to));
  for (const user of ['follower', 'vip-1', 'vip-2']) assert.ok(to.has(U(user)), `${user} got a message`);
  assert.equal(line.received.length, 3);
  assert.doesNotMatch(first.stdout + first.summary, /U[0-9a-f]{32}/, 'no LINE user id in the log or the summary');

  // A day on, the follower's next step (day 1, 10:00) is due: plan-only (as-of) plans it, and
  // writes nothing (every table's rows hash the same) and calls LINE zero times.
  const later = T0 + DAY;
  const before = line.received.length;
  const requests = line.requests.length;
  const rows = await tableSnapshot(db.db);
  const plan = await runAction(
    { mode: 'run', 'run-mode': 'plan-only', 'as-of': new Date(later).toISOString(), ...database },
    inCopy,
  );
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.equal(actionOutput(plan, 'planned'), '1', plan.summary + plan.stdout);
  assert.match(plan.summary, /run mode plan-only \(a what-if: nothing written, LINE not called\)/);
  assert.deepEqual(await tableSnapshot(db.db), rows, 'plan-only writes nothing');
  assert.equal(line.requests.length, requests, 'plan-only calls LINE zero times');
  const second = await tickAt(later, { 'run-mode': 'send' });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(actionOutput(second, 'sent'), actionOutput(plan, 'planned'), 'the tick sends what plan-only planned');
  assert.equal(line.received.length, before + Number(actionOutput(second, 'sent')));

  // On day 5 the follower's reviews step is due: no-line records it as sent and calls LINE
  // zero times; the state advanced, so a send tick at the same moment has nothing left.
  const day5 = T0 + 5 * DAY;
  const received = line.received.length;
  const calls = line.requests.length;
  const noLine = await tickAt(day5, { 'run-mode': 'no-line' });
  assert.equal(noLine.code, 0, noLine.stdout + noLine.stderr);
  assert.equal(line.requests.length, calls, 'no-line calls LINE zero times');
  assert.ok(Number(actionOutput(noLine, 'sent')) >= 1, noLine.summary);
  assert.match(noLine.summary, /run mode no-line \(state advances, LINE not called: sends are recorded as if sent\)/);
  const after = await tickAt(day5, { 'run-mode': 'send' });
  assert.equal(after.code, 0, after.stdout + after.stderr);
  assert.equal(actionOutput(after, 'sent'), '0', 'no-line advanced the state: nothing is sent again');
  assert.equal(line.received.length, received);
});

test('test-send: a scenario reaches a staff account through the loopback LINE server', async () => {
  const staff = `U${'f'.repeat(32)}`;
  const run = await runAction(
    { mode: 'test-send', 'only-scenario': 'cart-abandoned', 'test-recipients': staff, step: 'reminder', ...database },
    inCopy,
  );
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const inbox = line.inbox(staff) as { text?: string }[][];
  assert.equal(inbox.length, 1);
  assert.equal(inbox[0]![0]!.text, '[TEST] cart-abandoned / reminder');
});
