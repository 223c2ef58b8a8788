// The global frequency cap: a user in several scenarios does not get five messages in an hour.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { localToInstant, HOUR, formatLocal } from '../../src/time/zoned.js';
import { pgliteStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const pick = (id: string, priority?: number) => {
  const s = scenarios.find((x) => x.scenario.id === id)!.scenario;
  return compileScenario(priority === undefined ? s : { ...s, priority });
};

test('at most 2 steps per user per day: higher priority first, the rest deferred to the next day, never dropped', async () => {
  const { store, db } = await pgliteStore();
  const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
  const sender = new NoLineSender();
  const compiled = [
    pick('friend-welcome', 10),
    pick('cart-abandoned', 90),
    pick('subscription', 50),
    pick('after-shipment', 20),
  ];
  const cap = { perDay: 2, timezone: 'Asia/Tokyo' };
  await runTick({ store, sender, scenarios: compiled, now: clock.now, frequencyCap: cap });
  clock.advance(60_000);
  const u = `U${'a'.repeat(32)}`;
  for (const [type, props] of [
    ['follow', {}],
    ['cart_abandoned', { total: 5000, productName: 'x' }],
    ['subscription_started', {}],
    ['shipped', {}],
  ] as const) {
    await db.query(
      `insert into events (line_user_id, type, properties, occurred_at) values ($1, $2, $3, to_timestamp($4 / 1000.0))`,
      [u, type, JSON.stringify(props), clock.t],
    );
  }
  const firstDay: string[] = [];
  let capped = 0;
  for (let i = 0; i < 48; i++) {
    const r = await runTick({ store, sender, scenarios: compiled, now: clock.now, frequencyCap: cap });
    capped += r.counts.total('capped');
    clock.advance(HOUR);
  }
  const sends = sender.sent.map((b) => ({ step: `${b.scenarioId}/${b.stepId}` }));
  const rows = await store.deliveriesOf([u]);
  const byDay = new Map<string, string[]>();
  for (const r of rows.filter((x) => x.kind === 'send')) {
    const day = formatLocal(Number(r.sentAt), 'Asia/Tokyo').slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), `${r.scenarioId}/${r.stepId}`]);
  }
  firstDay.push(...(byDay.get('2026-11-25') ?? []));
  assert.ok(
    [...byDay.values()].every((list) => list.length <= 2),
    JSON.stringify([...byDay]),
  );
  // At 12:01 three steps are due (the cart reminder only at 13:01): subscription (50) and
  // after-shipment (20) outrank friend-welcome (10).
  assert.deepEqual(
    firstDay.sort(),
    ['after-shipment/shipped-notice', 'subscription/welcome'],
    'the two highest priorities went first',
  );
  assert.ok(capped > 0, 'the summary counts capped steps');
  assert.ok(
    (byDay.get('2026-11-26') ?? []).includes('friend-welcome/welcome'),
    `deferred, not dropped: ${JSON.stringify([...byDay])}`,
  );
  for (const r of rows.filter((x) => x.kind === 'send')) {
    const hour = Number(formatLocal(Number(r.sentAt), 'Asia/Tokyo').slice(11, 13));
    assert.ok(hour >= 9 && hour < 22, `${r.stepId} went out at ${hour}:00, outside the send window`);
  }
  assert.equal(new Set(sends.map((s) => s.step)).size, sends.length, 'nothing twice');
  // The cart reminder, capped at 13:01, could not go out within its 12-hour expiry: skipped, and recorded.
  assert.deepEqual(
    rows.filter((r) => r.stepId === 'reminder').map((r) => r.kind),
    ['expire'],
  );
  await db.close();
});
