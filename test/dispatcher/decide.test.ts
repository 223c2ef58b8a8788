// The dispatcher's decision (lsd_dispatch_decide) on the real PostgreSQL server, with state
// made by whole ticks of the sample scenarios: what starts a run, what holds one back, and
// that two deciders at once start one run.
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { MINUTE, HOUR } from '../../src/time/zoned.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const pick = (...ids: string[]) => scenarios.map((s) => s.compiled).filter((c) => ids.includes(c.id));
const U = (n: number) => `U${String(n).padStart(32, '0')}`;
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

interface Decision {
  start: boolean;
  reasons: string[];
  next_due_at: number | null;
  wait_reason: string | null;
  not_before: number | null;
  dispatch_id: number | null;
  request: { owner: string; repo: string; workflow: string; ref: string; inputs: Record<string, string> } | null;
}

const T0 = Date.UTC(2026, 11, 7, 3, 0); // 12:00 in Tokyo
const decide = (db: SqlRpc, now: number, extra: object = {}) =>
  db.call<Decision>('lsd_dispatch_decide', { now, ...extra });
const setup = (db: SqlRpc, p: object = {}) =>
  db.call('lsd_dispatcher_setup', { owner: 'my-shop', repo: 'line-scenarios', workflow: 'step-delivery.yml', ...p });

async function event(db: SqlRpc, user: number, type: string, at: number, properties: object = {}) {
  await db.query(
    `insert into events (line_user_id, type, occurred_at, properties) values ($1, $2, to_timestamp($3 / 1000.0), $4)`,
    [U(user), type, at, JSON.stringify(properties)],
  );
}

/** A database with the welcome and cart scenarios in force (one tick ran at T0). */
async function shop() {
  const s = await serverStore();
  drops.push(s.drop);
  const clock = new Clock(T0);
  const tick = () =>
    runTick({
      store: s.store,
      sender: new NoLineSender(),
      scenarios: pick('friend-welcome', 'cart-abandoned'),
      now: clock.now,
      trigger: 'workflow_dispatch',
    });
  await tick();
  return { ...s, clock, tick };
}

test('not set up: nothing starts, and the answer says how to set it up; setup names a wrong field and its fix', async () => {
  const { db, clock } = await shop();
  await event(db, 1, 'follow', clock.t);
  const d = await decide(db, clock.t + MINUTE);
  assert.equal(d.start, false);
  assert.deepEqual(d.reasons, ['events: follow']);
  assert.match(d.wait_reason ?? '', /not set up: run lsd_dispatcher_setup/);
  await assert.rejects(setup(db, { workflow: 'deploy' }), /workflow "deploy" is not a workflow file name/);
  await assert.rejects(setup(db, { budget_minutes: -5 }), /budget_minutes -5 is negative/);
  await assert.rejects(db.call('lsd_dispatcher_setup', { repo: 'x' }), /owner "" is not a GitHub user/);
  const settings = await setup(db, { budget_minutes: 2000 });
  assert.deepEqual(
    { ...(settings as object), created_at: 0, updated_at: 0 },
    {
      owner: 'my-shop',
      repo: 'line-scenarios',
      workflow: 'step-delivery.yml',
      ref: 'main',
      inputs: { 'run-mode': 'send' },
      min_gap_seconds: 120,
      budget_minutes: 2000,
      public_repository: false,
      enabled: true,
      stale_tick_seconds: 900,
      start_timeout_seconds: 600,
      run_overhead_seconds: 30,
      refusal_backoff_seconds: 900,
      created_at: 0,
      updated_at: 0,
      last_decided_at: null,
      last_wait_reason: null,
    },
  );
  // A second call changes what it names and keeps the rest.
  const changed = (await setup(db, { ref: 'release', budget_minutes: null })) as Record<string, unknown>;
  assert.equal(changed.ref, 'release');
  assert.equal(changed.budget_minutes, null);
  assert.equal(changed.repo, 'line-scenarios');
});

test('an event a scenario reads starts a run; one no scenario reads does not; nothing due waits', async () => {
  const { db, clock } = await shop();
  await setup(db);
  const quiet = await decide(db, clock.t + 5 * MINUTE, { record: false });
  assert.equal(quiet.start, false);
  assert.equal(quiet.wait_reason, 'nothing is due');
  await event(db, 1, 'shipped', clock.t + MINUTE); // no scenario here reads it
  assert.equal((await decide(db, clock.t + 5 * MINUTE, { record: false })).start, false);
  await event(db, 2, 'cart_abandoned', clock.t + MINUTE, { total: 3000 });
  const d = await decide(db, clock.t + 5 * MINUTE, { record: false });
  assert.equal(d.start, true);
  // The cart's reminder comes an hour after entry: the event starts a run, not at once under a budget.
  assert.deepEqual(d.reasons, ['events: cart_abandoned (no step due at once)']);
  assert.deepEqual(d.request, {
    owner: 'my-shop',
    repo: 'line-scenarios',
    workflow: 'step-delivery.yml',
    ref: 'main',
    inputs: { 'run-mode': 'send' },
  });
  // record false writes nothing: the same answer again.
  assert.equal(d.dispatch_id, null);
  assert.equal((await db.query('select count(*)::int as n from lsd_dispatches'))[0]!.n, 0);
  // purchased: the cart's exit and the welcome's goal, and what the cart's wait-checkout
  // step waits for (a step can fall due at once): urgent.
  await db.query(`update events set status = 'done' where type = 'cart_abandoned'`);
  await event(db, 3, 'purchased', clock.t + MINUTE);
  assert.deepEqual((await decide(db, clock.t + 5 * MINUTE, { record: false })).reasons, ['events: purchased']);
});

test('a step falling due starts a run at its moment; next_due_at says when, before it', async () => {
  const { db, clock, tick } = await shop();
  await setup(db);
  await event(db, 2, 'cart_abandoned', clock.t, { total: 3000 });
  clock.t += MINUTE;
  await tick(); // enrolled: the reminder is due an hour after the cart
  const before = await decide(db, clock.t + 30 * MINUTE, { record: false });
  assert.equal(before.start, false);
  assert.equal(before.next_due_at, T0 + HOUR);
  const at = await decide(db, T0 + HOUR);
  assert.equal(at.start, true);
  assert.deepEqual(at.reasons, ['enrollments due']);
  assert.equal(at.next_due_at, T0 + HOUR);
  assert.ok(at.dispatch_id);
  // Recorded, with why; the next decision waits for its run to begin.
  const [row] = await db.query<{ status: string; reasons: string[]; origin: string }>(
    'select status, reasons, origin from lsd_dispatches',
  );
  assert.deepEqual(row, { status: 'requested', reasons: ['enrollments due'], origin: 'cron' });
  const again = await decide(db, T0 + HOUR + MINUTE);
  assert.equal(again.start, false);
  assert.equal(again.wait_reason, 'a start was requested and its run has not begun yet');
});

test('never while a tick runs (its heartbeat), nor within the minimum gap; a crashed tick stops holding', async () => {
  const { db, store, clock } = await shop();
  await setup(db, { min_gap_seconds: 300 });
  const run = await store.runStart({
    now: clock.t + MINUTE,
    shardIndex: 0,
    shardCount: 1,
    dryRun: false,
    trigger: 'x',
  });
  await event(db, 1, 'follow', clock.t + 2 * MINUTE);
  const running = await decide(db, clock.t + 3 * MINUTE);
  assert.equal(running.start, false);
  assert.match(running.wait_reason ?? '', /^a tick is running \(started 2026-12-07 03:01:00 UTC\)$/);
  // Its heartbeat at +14 min keeps it running at +20 (15 minutes' staleness).
  await db.call('lsd_run_heartbeat', { id: run.id, now: clock.t + 14 * MINUTE });
  assert.match((await decide(db, clock.t + 20 * MINUTE)).wait_reason ?? '', /a tick is running/);
  // No heartbeat for 15 minutes: it crashed; the follow starts a run.
  const after = await decide(db, clock.t + 30 * MINUTE);
  assert.equal(after.start, true, after.wait_reason ?? '');
  // Its run begins and ends at once; another follow within 5 minutes of that start waits.
  const next = await store.runStart({
    now: clock.t + 31 * MINUTE,
    shardIndex: 0,
    shardCount: 1,
    dryRun: false,
    trigger: 'workflow_dispatch',
  });
  await store.runFinish({ now: clock.t + 32 * MINUTE, id: next.id, counts: {}, status: 'ok' });
  const gap = await decide(db, clock.t + 33 * MINUTE);
  assert.equal(gap.start, false);
  assert.equal(gap.wait_reason, 'the minimum gap of 300 s since the last start');
  assert.equal(gap.not_before, clock.t + 36 * MINUTE);
  assert.equal((await decide(db, clock.t + 36 * MINUTE)).start, true);
});

test("GitHub's refusal holds starts back for the backoff with its reason; a rate limit until its retry time", async () => {
  const { db, clock } = await shop();
  await setup(db);
  await event(db, 1, 'follow', clock.t + MINUTE);
  const d = await decide(db, clock.t + 2 * MINUTE);
  const answer = 'the token lacks Actions: write on my-shop/line-scenarios';
  await db.call('lsd_dispatch_answer', {
    id: d.dispatch_id,
    outcome: 'refused',
    http_status: 403,
    answer,
    now: clock.t + 2 * MINUTE,
  });
  const held = await decide(db, clock.t + 10 * MINUTE);
  assert.equal(held.wait_reason, `GitHub refused the last start: ${answer}`);
  const retried = await decide(db, clock.t + 18 * MINUTE);
  assert.equal(retried.start, true);
  await db.call('lsd_dispatch_answer', {
    id: retried.dispatch_id,
    outcome: 'rate_limited',
    http_status: 429,
    answer: 'retry after 1200 s',
    retry_at: clock.t + 38 * MINUTE,
  });
  assert.match((await decide(db, clock.t + 30 * MINUTE)).wait_reason ?? '', /rate limit/);
  assert.equal((await decide(db, clock.t + 38 * MINUTE)).start, true);
});

test('a budget spaces starts so the month stays within it; a public repository has none', async () => {
  const { db, store } = await shop();
  // Mid-month, an hourly run of 20 s (billed a minute with the job's start) since the 1st:
  // with 700 minutes a month, the ~360 left spread over 16.9 days, one start every ~67 minutes.
  const now = Date.UTC(2026, 11, 15, 0, 0);
  await db.query(
    `insert into runs (started_at, finished_at, status) select t, t + interval '20 seconds', 'ok'
     from generate_series(timestamptz '2026-12-01', timestamptz '2026-12-14 23:00', interval '1 hour') t`,
  );
  await setup(db, { budget_minutes: 700 });
  const last = await store.runStart({
    now: now - 30 * MINUTE,
    shardIndex: 0,
    shardCount: 1,
    dryRun: false,
    trigger: 'workflow_dispatch',
  });
  await store.runFinish({ now: now - 29 * MINUTE, id: last.id, counts: {}, status: 'ok' });
  await event(db, 1, 'follow', now - MINUTE);
  const spaced = await decide(db, now);
  assert.equal(spaced.start, false);
  const used = (await db.call<{ month: { billed_minutes: number } }>('lsd_dispatcher_status', { now })).month
    .billed_minutes;
  assert.ok(used > 330 && used < 345, String(used));
  const said = spaced.wait_reason?.match(
    /^the monthly budget \((\d+) of 700 billed minutes used\): one start every (\d+) s$/,
  );
  assert.ok(said, spaced.wait_reason ?? '');
  assert.equal(Number(said[1]), used);
  // The month's rest over the starts left at this month's minutes a run (about one).
  const pace = (Date.UTC(2027, 0, 1) - now) / (700 - used);
  assert.ok(Math.abs(Number(said[2]) * 1000 - pace) < pace * 0.02, `${said[2]} s against ${pace / 1000} s`);
  assert.ok(spaced.not_before! > now, 'waits');
  assert.equal(spaced.not_before, now - 30 * MINUTE + Number(said[2]) * 1000 + (spaced.not_before! % 1000));
  assert.equal((await decide(db, spaced.not_before)).start, true);
  await setup(db, { public_repository: true });
  await event(db, 2, 'follow', now);
  assert.equal((await decide(db, spaced.not_before + 3 * MINUTE)).start, false, 'the start above is in flight');
  const runAt = spaced.not_before + 4 * MINUTE;
  const r = await store.runStart({
    now: runAt,
    shardIndex: 0,
    shardCount: 1,
    dryRun: false,
    trigger: 'workflow_dispatch',
  });
  await store.runFinish({ now: runAt + MINUTE, id: r.id, counts: {}, status: 'ok' });
  await event(db, 3, 'follow', runAt + 2 * MINUTE);
  assert.equal((await decide(db, runAt + 3 * MINUTE)).start, true, 'public: the minimum gap only');
  // Spent: nothing more starts this month (once the start above has timed out unanswered).
  await setup(db, { public_repository: false, budget_minutes: 100 });
  assert.match(
    (await decide(db, runAt + 20 * MINUTE)).wait_reason ?? '',
    /^the monthly budget is spent \(\d+ of 100 billed minutes\)/,
  );
});

test('two deciders at once start one run', async () => {
  const { db, clock, open } = await shop();
  await setup(db);
  await event(db, 1, 'follow', clock.t + MINUTE);
  const others = await Promise.all([open(), open(), open()]);
  const answers = await Promise.all(
    [db, ...others.map((o) => o.rpc as SqlRpc)].map((r) => decide(r, clock.t + 2 * MINUTE)),
  );
  assert.equal(answers.filter((a) => a.start).length, 1);
  assert.equal((await db.query('select count(*)::int as n from lsd_dispatches'))[0]!.n, 1);
});

test('a tick sending past its staleness (a batch in an attempt under a live lease) still counts as running', async () => {
  const { db, store, clock } = await shop();
  await setup(db);
  const run = await store.runStart({
    now: clock.t + MINUTE,
    shardIndex: 0,
    shardCount: 1,
    dryRun: false,
    trigger: 'workflow_dispatch',
  });
  assert.ok(run.id);
  // 40 minutes into it, no heartbeat: stale by its runs row; but it is sending a batch whose
  // lease it renews (until +45 min).
  await db.query(
    `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, lease_owner, lease_until, attempt_started_at, attempts, created_at)
     values ('friend-welcome', 'welcome', 'push', '[]', array['U1'], 'tick-x', to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), 1, to_timestamp($3 / 1000.0))`,
    [clock.t + 45 * MINUTE, clock.t + 39 * MINUTE, clock.t + 35 * MINUTE],
  );
  await event(db, 1, 'follow', clock.t + 30 * MINUTE);
  const sending = await decide(db, clock.t + 40 * MINUTE);
  assert.equal(sending.start, false);
  assert.equal(sending.wait_reason, 'a tick is running (sending: an outbox batch is in an attempt under a live lease)');
  // The lease runs out (the tick died): the follow, and the batch's retry, start a run.
  const after = await decide(db, clock.t + 46 * MINUTE);
  assert.equal(after.start, true, after.wait_reason ?? '');
  assert.deepEqual(after.reasons, ['outbox due', 'events: follow']);
});

test('under a budget, an event whose first step is an hour away waits twice the pace; a follow (a welcome now) goes at the pace', async () => {
  const { db } = await shop();
  // Mid-month, 340 of 700 minutes used: the pace is about an hour (as in the budget test).
  const now = Date.UTC(2026, 11, 15, 0, 0);
  await db.query(
    `insert into runs (started_at, finished_at, status) select t, t + interval '20 seconds', 'ok'
     from generate_series(timestamptz '2026-12-01', timestamptz '2026-12-14 23:00', interval '1 hour') t`,
  );
  await setup(db, { budget_minutes: 700 });
  await event(db, 1, 'cart_abandoned', now - MINUTE, { total: 3000 });
  // The last start was the hourly run at 23:00; 70 minutes later the pace (~68 min) has passed.
  const cart = await decide(db, now + 10 * MINUTE, { record: false });
  assert.equal(cart.start, false);
  assert.match(
    cart.wait_reason ?? '',
    /^the monthly budget \(\d+ of 700 billed minutes used\): one start every \d+ s$/,
  );
  const pace = Number(/every (\d+) s/.exec(cart.wait_reason!)![1]);
  assert.ok(pace > 2 * 3600 && pace < 3 * 3600, `twice an hour's pace: ${pace} s`);
  await event(db, 2, 'follow', now - MINUTE);
  const follow = await decide(db, now + 10 * MINUTE, { record: false });
  assert.equal(follow.start, true, follow.wait_reason ?? '');
  assert.deepEqual(follow.reasons, ['events: follow', 'events: cart_abandoned (no step due at once)']);
});
