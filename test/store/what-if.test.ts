// A what-if (run mode plan-only, with or without as-of) shows what would really happen, and writes
// nothing at all (issue 13 item 6): it reads the events not taken in yet and routes them in
// memory, plans every page that is due, and leaves no runs row, no lease, no event touched.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick, type TickResult } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { localToInstant } from '../../src/time/zoned.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';
import { tableSnapshot } from '../support/snapshot.js';

const { scenarios } = await loadScenarioDir('scenarios');
const cart = scenarios.filter((s) => s.scenario.id === 'cart-abandoned').map((s) => s.compiled);
const MINUTE = 60_000;

/** Recipients per scenario/step of one count ("planned" in a what-if, "sent" in a tick). */
function perStep(result: TickResult, what: 'planned' | 'sent'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [scenarioId, steps] of result.counts.byScenario) {
    for (const [stepId, row] of steps) if (row[what]) out[`${scenarioId}/${stepId}`] = row[what]!;
  }
  return out;
}

async function cartEvents(db: SqlRpc, users: number[], type: string, at: number): Promise<void> {
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at)
     select 'U' || lpad(to_hex(u), 32, '0'), $2, '{"productName": "白いスニーカー", "total": 5000}', to_timestamp($1 / 1000.0)
     from unnest($3::int[]) u`,
    [at, type, users],
  );
}

test('a cart abandoned an hour ago, not taken in yet: the what-if plans it exactly as the next tick sends it, and writes nothing', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
    await runTick({ store, sender: new NoLineSender(), scenarios: cart, now: clock.now });
    clock.advance(MINUTE);
    await cartEvents(db, [1, 2, 3, 4], 'cart_abandoned', clock.t);
    clock.advance(10 * MINUTE);
    await cartEvents(db, [4], 'purchased', clock.t); // user 4 bought: no reminder
    clock.advance(55 * MINUTE);

    const before = await tableSnapshot(db);
    const whatIf = await runTick({
      store,
      sender: new NoLineSender(),
      scenarios: cart,
      now: clock.now,
      mode: 'plan-only',
    });
    assert.deepEqual(
      await tableSnapshot(db),
      before,
      'the what-if wrote nothing: no runs row, no lease, no event touched',
    );
    assert.deepEqual(perStep(whatIf, 'planned'), { 'cart-abandoned/reminder': 3 });
    assert.equal(whatIf.counts.eventsTaken, 5, 'it read the events not taken in yet');

    const sender = new NoLineSender();
    const real = await runTick({ store, sender, scenarios: cart, now: clock.now });
    assert.deepEqual(perStep(real, 'sent'), perStep(whatIf, 'planned'), 'the tick sends what the what-if showed');
    assert.equal(sender.sent.flatMap((b) => b.recipients).length, 3);
  } finally {
    await drop();
  }
});

test('a what-if over many pages plans every due enrollment, the new ones and the stored ones, with progress', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
    await runTick({ store, sender: new NoLineSender(), scenarios: cart, now: clock.now });
    clock.advance(MINUTE);
    // 30 carts taken in by a tick (stored, due in an hour), 9 more not taken in yet.
    await cartEvents(
      db,
      Array.from({ length: 30 }, (_, i) => i + 1),
      'cart_abandoned',
      clock.t,
    );
    await runTick({ store, sender: new NoLineSender(), scenarios: cart, now: clock.now });
    await cartEvents(
      db,
      Array.from({ length: 9 }, (_, i) => i + 101),
      'cart_abandoned',
      clock.t,
    );
    clock.advance(62 * MINUTE);

    const before = await tableSnapshot(db);
    const progress: string[] = [];
    const whatIf = await runTick({
      store,
      sender: new NoLineSender(),
      scenarios: cart,
      now: clock.now,
      mode: 'plan-only',
      pageSize: 4,
      progress: (what) => progress.push(what),
    });
    assert.deepEqual(await tableSnapshot(db), before, 'nothing written');
    assert.deepEqual(perStep(whatIf, 'planned'), { 'cart-abandoned/reminder': 39 }, 'every page, not only the first');
    assert.ok(progress.filter((p) => p.startsWith('enrollments planned')).length >= 10, 'a progress line per page');

    const real = await runTick({ store, sender: new NoLineSender(), scenarios: cart, now: clock.now, pageSize: 4 });
    assert.deepEqual(perStep(real, 'sent'), perStep(whatIf, 'planned'));
  } finally {
    await drop();
  }
});

test('after a what-if at an as-of moment, the next real tick is not reported late: no runs row was written', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
    const first = await runTick({ store, sender: new NoLineSender(), scenarios: cart, now: clock.now });
    void first;
    // A what-if two days ahead, then the real tick five minutes after the first one.
    await runTick({
      store,
      sender: new NoLineSender(),
      scenarios: cart,
      now: () => clock.t + 2 * 86_400_000,
      mode: 'plan-only',
    });
    clock.advance(5 * MINUTE);
    const next = await runTick({ store, sender: new NoLineSender(), scenarios: cart, now: clock.now });
    assert.equal(next.previousRunAt, clock.t - 5 * MINUTE, 'the previous run is the real one');
    const runs = await db.query<{ n: number }>(`select count(*)::int as n from runs`);
    assert.equal(runs[0]!.n, 2);
  } finally {
    await drop();
  }
});
