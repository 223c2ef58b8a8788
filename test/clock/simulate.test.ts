// The clock benchmark's world and simulation (bench/clock): GitHub's model as stated, the
// sample scenarios' moments as the planner dates them, and a short stretch of the quiet shop
// through the dispatcher's real decision function on the PostgreSQL server.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { inject } from 'vitest';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { DAY, HOUR, MINUTE, formatLocal } from '../../src/time/zoned.js';
import { Rng, SHOPS, badSpells, scheduledStart, shopEvents, stepMoments } from '../../bench/clock/model.js';
import { quantile, simulateCase } from '../../bench/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = new Map(scenarios.map((s) => [s.compiled.id, s.compiled]));

test('a seed gives the same month twice; another seed another one', () => {
  const a = shopEvents(new Rng(5), SHOPS.busy, 0, 3 * DAY);
  const b = shopEvents(new Rng(5), SHOPS.busy, 0, 3 * DAY);
  const c = shopEvents(new Rng(6), SHOPS.busy, 0, 3 * DAY);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // About 300 follows, 200 carts and 100 purchases a day.
  const follows = a.filter((e) => e.type === 'follow').length / 3;
  assert.ok(follows > 250 && follows < 350, `${follows} follows a day`);
});

test("GitHub's scheduler as modelled: worst at the top of the hour, in delay and in drops", () => {
  const rng = new Rng(1);
  const sample = (minute: number) => {
    const delays: number[] = [];
    let dropped = 0;
    for (let i = 0; i < 4000; i++) {
      const at = i * HOUR + minute * MINUTE;
      const start = scheduledStart(rng, at, []);
      if (start === null) dropped++;
      else delays.push(start - at);
    }
    return { median: quantile(delays, 0.5), dropped: dropped / 4000 };
  };
  const top = sample(0);
  const five = sample(5);
  const odd = sample(17);
  assert.ok(top.median > 2 * five.median && five.median > odd.median, JSON.stringify({ top, five, odd }));
  assert.ok(top.dropped > 0.07 && top.dropped < 0.13 && odd.dropped < 0.03, JSON.stringify({ top, odd }));
  // In a bad spell most runs are dropped and the rest come at least half an hour late.
  const spell: [number, number][] = [[0, 3 * HOUR]];
  const inSpell = Array.from({ length: 1000 }, () => scheduledStart(rng, HOUR, spell));
  assert.ok(inSpell.filter((s) => s === null).length > 700);
  assert.ok(inSpell.every((s) => s === null || s - HOUR >= 30 * MINUTE));
  assert.ok(badSpells(new Rng(2), 0, 300 * DAY).length > 5);
});

test("the sample scenarios' moments, as the planner dates them: a welcome at once, 10:00 steps, a reminder an hour after a cart", () => {
  const rng = new Rng(3);
  const at = Date.UTC(2026, 11, 1, 3, 30); // 12:30 in Tokyo
  const local = (ms: number) => formatLocal(ms, 'Asia/Tokyo');
  const follow = stepMoments(rng, { n: 0, type: 'follow', at }, compiled);
  assert.deepEqual(
    follow.map((m) => `${m.stepId} ${local(m.at)}`),
    [
      'welcome 2026-12-01 12:30',
      'day1-campaign 2026-12-02 10:00',
      'day5-reviews 2026-12-06 10:00',
      'coupon-percent 2026-12-08 10:00',
    ],
  );
  const cart = stepMoments(rng, { n: 1, type: 'cart_abandoned', at }, compiled);
  assert.equal(local(cart[0]!.at), '2026-12-01 13:30');
  // Late at night the reminder waits for the send window (09:00).
  const night = stepMoments(rng, { n: 2, type: 'cart_abandoned', at: Date.UTC(2026, 11, 1, 14, 0) }, compiled);
  assert.equal(local(night[0]!.at), '2026-12-02 09:00');
  const purchase = stepMoments(rng, { n: 3, type: 'purchased', at }, compiled);
  assert.equal(`${purchase[0]!.stepId} ${local(purchase[0]!.at)}`, 'thanks 2026-12-01 12:40');
});

test('two days of the quiet shop: the dispatcher (the real decision on the server) sends sooner than every 5 minutes, on fewer minutes', async () => {
  const month = { from: Date.UTC(2026, 11, 1), to: Date.UTC(2026, 11, 3) };
  const base = { shop: SHOPS.quiet, seed: 11, month, warmUp: DAY };
  const every5 = await simulateCase({ ...base, way: 'every 5 minutes' }, compiled);
  const server = inject('databaseUrl');
  const dispatcher = await simulateCase(
    { ...base, way: 'dispatcher', server, database: `lsd_test_clock_${process.pid}`, budget: null },
    compiled,
  );
  assert.ok(dispatcher.decisions > 0 && dispatcher.starts > 0);
  assert.equal(dispatcher.lateness.length, every5.lateness.length, 'the same steps, all sent');
  assert.ok(dispatcher.replies > 0 && dispatcher.replies === every5.replies, 'welcomes by reply, in both');
  const p95 = (r: { lateness: number[] }) => quantile(r.lateness, 0.95);
  assert.ok(p95(dispatcher) < p95(every5), `p95 ${p95(dispatcher)} s against ${p95(every5)} s`);
  assert.ok(p95(dispatcher) <= 300, `p95 ${p95(dispatcher)} s`);
  assert.ok(
    dispatcher.billedMinutes < every5.billedMinutes / 2,
    `${dispatcher.billedMinutes} against ${every5.billedMinutes}`,
  );
  // Every 5 minutes: about 288 runs a day, a minute each, a few dropped.
  assert.ok(every5.runs > 2 * 240 && every5.runs <= 2 * 288, `${every5.runs} runs`);
});
