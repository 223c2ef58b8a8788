// Exact to the minute, through whole ticks on the real server (issue 13): an event released
// by an account link is taken in by the same tick; an exit on the goal's own event counts as
// a conversion.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { tickSummary } from '../../src/report/summary.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = scenarios.map((s) => s.compiled);
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const START = Date.parse('2026-11-25T02:00:00Z'); // 11:00 in Tokyo
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

async function insert(
  db: SqlRpc,
  event: { user?: string; member?: string; type: string; properties?: unknown; at: number },
): Promise<void> {
  await db.query(
    `insert into events (line_user_id, member_id, type, properties, occurred_at) values ($1, $2, $3, $4::jsonb, to_timestamp($5 / 1000.0))`,
    [event.user ?? null, event.member ?? null, event.type, JSON.stringify(event.properties ?? {}), event.at],
  );
}

async function setUp() {
  const s = await serverStore();
  drops.push(s.drop);
  const clock = new Clock(START);
  const sender = new NoLineSender();
  await runTick({ store: s.store, sender, scenarios: compiled, now: clock.now }); // the scenarios' first run
  clock.advance(MINUTE);
  return { ...s, clock, sender, tick: () => runTick({ store: s.store, sender, scenarios: compiled, now: clock.now }) };
}

test('an event that waited for its account link is taken in by the tick that takes in the link', async () => {
  const { db, store, clock, tick } = await setUp();
  await insert(db, {
    member: 'M-77',
    type: 'cart_abandoned',
    properties: { productName: 'Sneakers', total: 5000 },
    at: clock.t,
  });
  await tick();
  const [waiting] = await db.query<{ status: string }>(`select status from events where member_id = 'M-77'`);
  assert.equal(waiting?.status, 'waiting_link');

  clock.advance(10 * MINUTE);
  await insert(db, { user: U(1), type: 'account_linked', properties: { memberId: 'M-77' }, at: clock.t });
  // More events than a page, so the released event is not on the page that released it.
  for (let i = 0; i < 12; i++)
    await insert(db, {
      user: U(100 + i),
      type: 'profile_updated',
      properties: { attributes: { region: 'tokyo' } },
      at: clock.t,
    });
  await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now, pageSize: 5 });
  const [released] = await db.query<{ status: string }>(`select status from events where member_id = 'M-77'`);
  assert.equal(released?.status, 'done', 'the released event was taken in by the same tick');
  const enrolled = await db.query(
    `select 1 from enrollments where line_user_id = $1 and scenario_id = 'cart-abandoned'`,
    [U(1)],
  );
  assert.equal(enrolled.length, 1, 'and enrolled the user in that tick');
});

test('a purchase that is both the exit and the goal of the cart scenario ends it as a conversion, counted in the summary', async () => {
  const { db, clock, tick } = await setUp();
  await insert(db, {
    user: U(2),
    type: 'cart_abandoned',
    properties: { productName: 'Sneakers', total: 5000 },
    at: clock.t,
  });
  await tick();
  clock.advance(2 * HOUR);
  await insert(db, { user: U(2), type: 'purchased', properties: { orderId: 'A-1' }, at: clock.t });
  const result = await tick();
  const [row] = await db.query<{ status: string; exit_reason: string; converted: boolean }>(
    `select status, exit_reason, converted_at is not null as converted from enrollments where line_user_id = $1 and scenario_id = 'cart-abandoned'`,
    [U(2)],
  );
  assert.deepEqual(row, { status: 'exited', exit_reason: 'exit: purchased', converted: true });
  const counted = result.counts.toJSON().scenarios as Record<string, Record<string, { conversions?: number }>>;
  assert.equal(counted['cart-abandoned']?.['(scenario)']?.conversions, 1);
  const summary = tickSummary(result, {
    now: clock.t,
    store: 'test',
    sender: 'not called',
    mode: 'send',
    intervalMinutes: 5,
  });
  assert.match(summary, /conversion/i);

  // A purchase after the goal's window (7 days) ends the enrollment without a conversion.
  await insert(db, {
    user: U(3),
    type: 'cart_abandoned',
    properties: { productName: 'Sneakers', total: 5000 },
    at: clock.t,
  });
  await tick();
  clock.advance(8 * 24 * HOUR);
  await insert(db, { user: U(3), type: 'purchased', properties: { orderId: 'A-2' }, at: clock.t });
  await tick();
  const [late] = await db.query<{ converted: boolean; status: string }>(
    `select status, converted_at is not null as converted from enrollments where line_user_id = $1 and scenario_id = 'cart-abandoned'`,
    [U(3)],
  );
  assert.equal(late?.converted, false);
});
