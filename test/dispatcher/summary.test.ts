// The safety net says so (issue 28 item 4): a tick reads the dispatcher's state in its
// setup; the job summary shows whether it works and why not (its last answer), and a
// broken one asks a person (the alert issue); never set up, delivery goes on as before and
// the summary says the schedule alone starts runs.
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick, type TickResult } from '../../src/engine/index.js';
import { NoLineSender } from '../../src/line/sender.js';
import { MINUTE } from '../../src/time/zoned.js';
import { needsAPerson, tickSummary } from '../../src/report/summary.js';
import { dispatcherStatusText } from '../../src/report/dispatcher-section.js';
import { readDispatcher, setupDispatcher } from '../../src/store/dispatcher.js';
import { serverStore } from '../support/db.js';

const { scenarios } = await loadScenarioDir('scenarios');
const welcome = scenarios.map((s) => s.compiled).filter((c) => c.id === 'friend-welcome');
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});
const T0 = Date.UTC(2026, 11, 7, 3, 0);
const U = (n: number) => `U${String(n).padStart(32, '0')}`;

async function shop() {
  const s = await serverStore();
  drops.push(s.drop);
  const tick = (now: number, trigger = 'workflow_dispatch') =>
    runTick({ store: s.store, sender: new NoLineSender(), scenarios: welcome, now: () => now, trigger });
  const summary = (r: TickResult, now: number) =>
    tickSummary(r, { now, store: 'postgres', sender: 'no-line', mode: 'no-line', intervalMinutes: 60 });
  return { ...s, tick, summary };
}

test('never set up: the tick runs as before, and the summary says the schedule alone starts runs', async () => {
  const { tick, summary } = await shop();
  const r = await tick(T0, 'schedule');
  assert.equal(r.dispatcher?.settings, null);
  assert.match(summary(r, T0), /ℹ️ Dispatcher: not set up, so runs start on the schedule alone/);
  assert.deepEqual(
    needsAPerson(r).filter((x) => x.includes('dispatcher')),
    [],
  );
});

test("GitHub refused the last start: the summary and the alert say why; a working one says so, with the month's minutes", async () => {
  const { db, tick, summary } = await shop();
  await setupDispatcher(db, {
    owner: 'my-shop',
    repo: 'line-scenarios',
    workflow: 'step-delivery.yml',
    budgetMinutes: 3000,
  });
  // Set up before this test's clock (it runs on its own clock, not the database's).
  await db.query(`update lsd_dispatcher_settings set created_at = to_timestamp($1 / 1000.0)`, [T0 - 60 * MINUTE]);
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'follow', to_timestamp($2 / 1000.0))`,
    [U(1), T0 - MINUTE],
  );
  await tick(T0 - 30 * MINUTE); // enrolled: the welcome falls due at the follow, T0 - 1 minute
  const d = await db.call<{ dispatch_id: number }>('lsd_dispatch_decide', { now: T0 });
  const answer =
    'the token lacks Actions: write on my-shop/line-scenarios (403): give it that permission on this repository';
  await db.call('lsd_dispatch_answer', { id: d.dispatch_id, outcome: 'refused', http_status: 403, answer, now: T0 });
  // The hourly schedule runs and delivers anyway.
  const r = await tick(T0 + 5 * MINUTE, 'schedule');
  assert.equal(r.counts.total('sent'), 1, 'the welcome went out on the schedule');
  const text = summary(r, T0 + 5 * MINUTE);
  assert.match(text, /### Dispatcher/);
  assert.ok(
    text.includes(
      `⚠️ Dispatcher not working: the dispatcher's last start (2026-12-07T03:00:00Z) was not made: ${answer}`,
    ),
    text,
  );
  assert.match(text, /This month: 2 run\(s\), 2 billed Actions minute\(s\) of a budget of 3000\./);
  assert.ok(
    needsAPerson(r).some((x) => x.includes(answer)),
    'the alert issue says it',
  );
  // The schedule found work the dispatcher had not started a run for: the safety net acted.
  const state = await readDispatcher(db, { now: T0 + 10 * MINUTE });
  assert.deepEqual(state.safetyNet, { runs: 1, acted: 1 });
  const status = dispatcherStatusText(state);
  assert.match(status, /NOT WORKING the dispatcher's last start/);
  assert.match(status, /The schedule \(the safety net\) found work 1 time\(s\) this month in 1 scheduled run\(s\)/);
  assert.match(status, /2026-12-07T03:00:00Z {2}cron {9}refused 403 {6}enrollments due/);

  // A later start that GitHub accepted, the cron job deciding since: working.
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'follow', to_timestamp($2 / 1000.0))`,
    [U(2), T0 + 40 * MINUTE],
  );
  const ok = await db.call<{ dispatch_id: number }>('lsd_dispatch_decide', { now: T0 + 41 * MINUTE });
  await db.call('lsd_dispatch_answer', {
    id: ok.dispatch_id,
    outcome: 'started',
    http_status: 204,
    answer: 'accepted',
  });
  const r2 = await tick(T0 + 42 * MINUTE);
  assert.match(
    summary(r2, T0 + 42 * MINUTE),
    /✅ Dispatcher working: it starts step-delivery\.yml on main when work is due \(last decision 2026-12-07T03:41:00Z\)/,
  );
  assert.deepEqual(
    needsAPerson(r2).filter((x) => x.includes('dispatcher')),
    [],
  );
  // The cron job silent for more than 5 minutes: not working, and why.
  const r3 = await tick(T0 + 50 * MINUTE);
  assert.match(
    summary(r3, T0 + 50 * MINUTE),
    /⚠️ Dispatcher not working: the dispatcher has not decided since 2026-12-07T03:41:00Z: check that pg\\_cron is enabled/,
  );
});

test('with the dispatcher set up, hours between runs are nothing due, not scheduled ticks missed', async () => {
  const { db, tick, summary } = await shop();
  const first = await tick(T0 - 300 * MINUTE, 'schedule');
  assert.match(
    summary(await tick(T0, 'schedule'), T0),
    /scheduled tick\(s\) were missed/,
    String(first.counts.total('sent')),
  );
  await setupDispatcher(db, { owner: 'my-shop', repo: 'line-scenarios', workflow: 'step-delivery.yml' });
  const text = summary(await tick(T0 + 300 * MINUTE, 'workflow_dispatch'), T0 + 300 * MINUTE);
  assert.doesNotMatch(text, /missed/);
  assert.match(text, /Previous tick 300\.0 min ago \(started by the dispatcher when work is due\)/);
});
