// Lateness measured for real (issue 28, item 6) on the PostgreSQL server: whole ticks in run
// mode no-line record, per run, how late each step they served was (its moment to LINE's
// acceptance), and the store reads p50/p95/max per day and the Actions minutes billed.
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { localToInstant, MINUTE, DAY } from '../../src/time/zoned.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const welcome = scenarios.map((s) => s.compiled).filter((c) => c.id === 'friend-welcome');
const U = (n: number) => `U${String(n).padStart(32, '0')}`;
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

async function follow(db: { query: (sql: string, args: unknown[]) => Promise<unknown> }, user: number, at: number) {
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'follow', to_timestamp($2 / 1000.0))`,
    [U(user), at],
  );
}

test('a tick records how late it served each welcome; the day shows p50, p95 and max', async () => {
  const { store, db, drop } = await serverStore();
  drops.push(drop);
  const start = localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0);
  const clock = new Clock(start);
  const sender = new NoLineSender();
  await runTick({ store, sender, scenarios: welcome, now: clock.now }); // scenarios switched on
  // 20 follows, one a minute from 12:01: the tick at 12:30 serves them 10 to 29 minutes late.
  for (let i = 1; i <= 20; i++) await follow(db, i, start + i * MINUTE);
  clock.t = start + 30 * MINUTE;
  await runTick({ store, sender, scenarios: welcome, now: clock.now });
  // The next day at 12:02, in a run whose clock moves on (LINE's acceptance is when it answered,
  // not the run's start): one follow of 12:00 served 2 minutes late, and the first 20's day-1
  // campaign, due at 10:00, two hours late.
  await follow(db, 99, start + DAY);
  let t = start + DAY + 2 * MINUTE;
  const later = () => {
    const at = t;
    t += 1000; // every read of the clock is a second later: the tick lasts its calls' count in seconds
    return at;
  };
  const third = await runTick({ store, sender, scenarios: welcome, now: later });

  const days = await store.latenessByDay({ from: start - DAY, to: start + 2 * DAY });
  // The tick's result carries the week's days (the job summary's table, the alert's p95).
  assert.deepEqual(third.lateness, days);
  assert.equal(days.length, 2, JSON.stringify(days));
  const [first, second] = days;
  assert.equal(first!.day, '2026-11-25');
  assert.equal(first!.served, 20);
  assert.equal(first!.max, 29 * 60);
  // The true p50 is 19.5 minutes, the p95 29: a bucket's upper edge, at most 5% over, never past max.
  assert.ok(first!.p50 >= 19 * 60 && first!.p50 <= 20 * 60 * 1.05, `p50 ${first!.p50}`);
  assert.ok(first!.p95 >= 28 * 60 && first!.p95 <= 29 * 60, `p95 ${first!.p95}`);
  assert.equal(second!.day, '2026-11-26');
  assert.equal(second!.served, 21);
  assert.ok(second!.max >= 7320 && second!.max < 7400, `max ${second!.max}`);
  assert.ok(second!.p50 >= 7320 && second!.p50 <= second!.max, `p50 ${second!.p50}`);

  // The run's headline: its earliest due step and how late it went.
  const [run] = await db.query<{ earliest: number; served: number }>(
    `select earliest_lateness_seconds as earliest, served::int as served from run_lateness order by at limit 1`,
  );
  assert.deepEqual(run, { earliest: 29 * 60, served: 20 });
});

test('a record with no run id, or one that names no run, counts no lateness and still records the answers', async () => {
  const { store, db, drop } = await serverStore();
  drops.push(drop);
  const start = localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0);
  const clock = new Clock(start);
  await runTick({ store, sender: new NoLineSender(), scenarios: welcome, now: clock.now });
  await follow(db, 1, start);
  clock.advance(MINUTE);
  await runTick({ store, sender: new NoLineSender(), scenarios: welcome, now: clock.now, stopAfter: 'commit' });
  const claimed = await store.claimBatches({
    now: clock.t,
    owner: 'me',
    limit: 10,
    holdPartial: false,
    leaseSeconds: 60,
    triedSince: clock.t,
    scenarioIds: ['friend-welcome'],
    exitTypes: {},
    checkedBefore: clock.t,
  });
  assert.equal(claimed.batches.length, 1);
  const r = await store.recordResults({
    now: clock.t,
    owner: 'me',
    runId: '00000000-0000-0000-0000-000000000000',
    results: [{ batchId: claimed.batches[0]!.id, outcome: 'sent', acceptedAt: clock.t }],
  });
  assert.equal(r.deliveries, 1);
  assert.deepEqual(await db.query(`select * from run_lateness`), []);
});

test('the Actions minutes of a period: each run in whole minutes from its start to its end, at least one', async () => {
  const { store, db, drop } = await serverStore();
  drops.push(drop);
  const now = Date.UTC(2026, 11, 7, 12, 0);
  // Lasting 0 s, 59 s, 61 s, 150 s; one still going since 30 s ago; a dry run; one before the period.
  const runs: [number, number | null, boolean][] = [
    [-3600, 0, false],
    [-3000, 59, false],
    [-2000, 61, false],
    [-1000, 150, false],
    [-30, null, false],
    [-500, 10, true],
    [-40 * 86400, 10, false],
  ];
  for (const [from, lasting, dry] of runs) {
    await db.query(
      `insert into runs (started_at, finished_at, dry_run) values (to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), $3)`,
      [now + from * 1000, lasting === null ? null : now + (from + lasting) * 1000, dry],
    );
  }
  const usage = await store.actionsUsage({ from: now - 30 * DAY, to: now + 1, now });
  assert.deepEqual(usage, { runs: 5, billedMinutes: 1 + 1 + 2 + 3 + 1, unfinished: 1 });
});
