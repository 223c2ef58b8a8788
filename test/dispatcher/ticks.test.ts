// Whole ticks with the dispatcher, on the real PostgreSQL server and the loopback GitHub API
// (issue 28, "tested with real parts"): a burst of events, a running tick, a start that
// GitHub refused, two starts at once, a manual run beside a dispatched one. Still one tick
// at a time where it matters, nothing done twice, nothing lost.
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/index.js';
import { NoLineSender, type SendReport } from '../../src/line/sender.js';
import type { OutboxBatch } from '../../src/domain.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import type { Store } from '../../src/store/store.js';
import { GitHubServer } from '../support/github-server.js';
import { serverStore } from '../support/db.js';
import { startIfDue, type Dispatcher } from '../../supabase/functions/_shared/github-dispatch.js';

const { scenarios } = await loadScenarioDir('scenarios');
const welcome = scenarios.map((s) => s.compiled).filter((c) => c.id === 'friend-welcome');
const github = new GitHubServer();
beforeAll(() => github.start());
afterAll(() => github.stop());
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

const dispatches = () => github.requests.filter((r) => r.path.endsWith('/dispatches'));

/** A sender that holds every send until released: a tick that is still running. */
class GatedSender extends NoLineSender {
  private open!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  entered = false;
  release(): void {
    this.open();
  }
  override async send(batch: OutboxBatch): Promise<SendReport> {
    this.entered = true;
    await this.gate;
    return super.send(batch);
  }
}

async function shop() {
  const s = await serverStore({ max: 8 });
  drops.push(s.drop);
  await s.db.call('lsd_dispatcher_setup', { owner: 'my-shop', repo: 'line-scenarios', workflow: 'step-delivery.yml' });
  const dispatcher = (rpc: SqlRpc): Dispatcher => ({
    call: (fn, p) => rpc.call(fn, p),
    token: 'github_pat_ticks',
    apiUrl: github.url,
  });
  // The scenarios registered by a first (scheduled) tick, as in production before any follow.
  const tick = (store: Store, sender = new NoLineSender(), trigger = 'workflow_dispatch') =>
    runTick({ store, sender, scenarios: welcome, now: Date.now, trigger });
  await tick(s.store, new NoLineSender(), 'schedule');
  await s.db.query(
    `update runs set started_at = now() - interval '10 minutes', finished_at = now() - interval '9 minutes'`,
  );
  return { ...s, dispatcher, tick };
}

async function follows(db: SqlRpc, from: number, n: number) {
  await db.query(
    `insert into events (line_user_id, type, source, idempotency_key)
     select 'U' || lpad(g::text, 32, '0'), 'follow', 'line-webhook', 'follow-' || g from generate_series($1::int, $2::int) g`,
    [from, from + n - 1],
  );
}

async function sentWelcomes(db: SqlRpc): Promise<{ users: number; rows: number }> {
  const [r] = await db.query<{ users: number; rows: number }>(
    `select count(distinct line_user_id)::int as users, count(*)::int as rows from deliveries
     where step_id = 'welcome' and status = 'sent'`,
  );
  return r!;
}

test('a burst of 500 follows, each asking at the webhook: one start; the dispatched tick welcomes each once', async () => {
  const { db, open, dispatcher, tick, store } = await shop();
  const before = dispatches().length;
  await follows(db, 1, 500);
  // 500 webhook calls at once, over 4 connections: the decision is serialized.
  const conns = [db, ...(await Promise.all([open(), open(), open()])).map((s) => s.rpc as SqlRpc)];
  const outcomes = await Promise.all(
    Array.from({ length: 500 }, (_, i) => startIfDue(dispatcher(conns[i % conns.length]!), 'line-webhook')),
  );
  assert.equal(outcomes.filter((o) => o.decision.start).length, 1);
  assert.equal(dispatches().length - before, 1, 'GitHub was asked once');
  assert.deepEqual(dispatches().at(-1)?.body, { ref: 'main', inputs: { 'run-mode': 'send' } });
  // The run GitHub starts: every welcome, once.
  const r = await tick(store);
  assert.equal(r.counts.total('sent'), 500);
  assert.deepEqual(await sentWelcomes(db), { users: 500, rows: 500 });
  // Nothing is due any more: the next minute starts nothing.
  await db.query(
    `update runs set started_at = started_at - interval '5 minutes', finished_at = finished_at - interval '5 minutes'`,
  );
  await db.query(`update lsd_dispatches set decided_at = decided_at - interval '5 minutes'`);
  const next = await startIfDue(dispatcher(db), 'cron');
  assert.equal(next.decision.start, false);
  assert.equal(next.decision.wait_reason, 'nothing is due');
});

test('while a tick runs nothing starts; what arrived meanwhile starts the next run once it ends', async () => {
  const { db, dispatcher, tick, store } = await shop();
  await follows(db, 1, 3);
  const sender = new GatedSender();
  const running = tick(store, sender);
  while (!sender.entered) await new Promise((r) => setTimeout(r, 20));
  await follows(db, 100, 2); // after the running tick took its events in
  const during = await startIfDue(dispatcher(db), 'line-webhook');
  assert.equal(during.decision.start, false);
  assert.match(during.decision.wait_reason ?? '', /^a tick is running/);
  sender.release();
  await running;
  // Once it ends (and the minimum gap since it began has passed), the two follows start a run.
  await db.query(
    `update runs set started_at = started_at - interval '3 minutes', finished_at = finished_at - interval '3 minutes'`,
  );
  const after = await startIfDue(dispatcher(db), 'cron');
  assert.equal(after.decision.start, true, after.decision.wait_reason ?? '');
  assert.deepEqual(after.decision.reasons, ['events: follow']);
  await tick(store);
  assert.deepEqual(await sentWelcomes(db), { users: 5, rows: 5 });
});

test('a start GitHub refused loses nothing: the schedule delivers, the refusal is recorded, and the dispatcher waits', async () => {
  const { db, dispatcher, tick, store } = await shop();
  await follows(db, 1, 10);
  github.dispatchAnswers.push({ status: 422, body: { message: 'No ref found for: main' } });
  const refused = await startIfDue(dispatcher(db), 'line-webhook');
  assert.equal(refused.answer?.outcome, 'refused');
  assert.match(refused.answer?.answer ?? '', /the workflow file step-delivery\.yml is not on ref main/);
  // The events are still there, new; the hourly schedule's tick sends each welcome once.
  const [n] = await db.query<{ n: number }>(`select count(*)::int as n from events where status = 'new'`);
  assert.equal(n!.n, 10);
  await tick(store, new NoLineSender(), 'schedule');
  assert.deepEqual(await sentWelcomes(db), { users: 10, rows: 10 });
  // More follows: the dispatcher holds back (GitHub's refusal) with its reason, asks nothing.
  await follows(db, 50, 1);
  const before = dispatches().length;
  const held = await startIfDue(dispatcher(db), 'cron');
  assert.match(held.decision.wait_reason ?? '', /^GitHub refused the last start: the workflow file/);
  assert.equal(dispatches().length, before);
});

test('two runs at once (a dispatched one and a manual one): each welcome once, nothing lost', async () => {
  const { db, open, tick, store } = await shop();
  await follows(db, 1, 300);
  const other = await open();
  const [a, b] = await Promise.all([tick(store), tick(other, new NoLineSender(), 'workflow_dispatch')]);
  assert.equal(a.counts.total('sent') + b.counts.total('sent'), 300);
  assert.deepEqual(await sentWelcomes(db), { users: 300, rows: 300 });
  const [left] = await db.query<{ n: number }>(
    `select (select count(*) from events where status = 'new') + (select count(*) from outbox_batches where status = 'pending') as n`,
  );
  assert.equal(Number(left!.n), 0);
});

test('a decider whose transaction began before another start was recorded still sees that start: one run, not two', async () => {
  const { db, url } = await shop();
  await follows(db, 1, 3);
  const late = new pg.Client({ connectionString: url });
  await late.connect();
  try {
    // This decider's transaction (and its now()) begins first...
    await late.query('begin');
    await late.query('select 1');
    // ...then another decides and records a start...
    const first = await db.call<{ start: boolean }>('lsd_dispatch_decide', { origin: 'line-webhook' });
    assert.equal(first.start, true);
    // ...and the first decides after it: the start is in its past, so it waits for that run.
    const { rows } = await late.query<{ r: { start: boolean; wait_reason: string } }>(
      `select lsd_dispatch_decide('{"origin": "line-webhook"}'::jsonb) as r`,
    );
    await late.query('commit');
    assert.equal(rows[0]!.r.start, false);
    assert.match(rows[0]!.r.wait_reason, /a start was requested and its run has not begun yet/);
  } finally {
    await late.end();
  }
});
