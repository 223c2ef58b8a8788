// Whole ticks on PGlite in run mode no-line (LINE not called): events in, messages out, exactly once.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { localToInstant, MINUTE, formatLocal } from '../../src/time/zoned.js';
import { pgliteStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = scenarios.map((s) => s.compiled);
const U = (n: number) => `U${String(n).padStart(32, '0')}`;

test('a cart abandoned, then a purchase: the reminder goes out once, the coupon never', async () => {
  const { store, db } = await pgliteStore();
  const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
  const sender = new NoLineSender();
  await runTick({ store, sender, scenarios: compiled, now: clock.now }); // first run: scenarios switched on
  clock.advance(MINUTE);
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, 'cart_abandoned', '{"productName": "白いスニーカー", "total": 5000}', to_timestamp($2 / 1000.0), 'test')`,
    [U(1), clock.t],
  );
  const buyAt = clock.t + 30 * 3600_000;
  for (let i = 0; i < 3 * 24 * 4; i++) {
    if (clock.t >= buyAt && clock.t < buyAt + 15 * MINUTE) {
      await db.query(
        `insert into events (line_user_id, type, occurred_at, source) values ($1, 'purchased', to_timestamp($2 / 1000.0), 'test')`,
        [U(1), clock.t],
      );
    }
    await runTick({ store, sender, scenarios: compiled, now: clock.now });
    clock.advance(15 * MINUTE);
  }
  const rows = await store.deliveriesOf([U(1)]);
  assert.deepEqual(
    rows.map((r) => `${r.scenarioId}/${r.stepId} ${r.status} ${formatLocal(Number(r.dueAt), 'Asia/Tokyo')}`),
    ['cart-abandoned/reminder sent 2026-11-25 13:01', 'after-purchase/thanks sent 2026-11-26 18:11'],
  );
  const texts = sender.sent.flatMap((b) => b.messages.map((m) => (m.type === 'text' ? m.text : m.type)));
  assert.ok(texts[0]!.includes('「白いスニーカー」'));
  await db.close();
});

test('what a user was sent cannot be orphaned: an enrollment or batch with deliveries is not deleted until its deliveries are', async () => {
  const { store, db } = await pgliteStore();
  const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
  const welcome = compiled.filter((c) => c.id === 'friend-welcome');
  await runTick({ store, sender: new NoLineSender(), scenarios: welcome, now: clock.now });
  clock.advance(MINUTE);
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'follow', to_timestamp($2 / 1000.0))`,
    [U(7), clock.t],
  );
  await runTick({ store, sender: new NoLineSender(), scenarios: welcome, now: clock.now });
  const [sent] = await db.query<{ enrollment_id: string; batch_id: string }>(
    `select enrollment_id, batch_id from deliveries where kind = 'send'`,
  );
  assert.ok(sent, 'the welcome was sent');
  await assert.rejects(
    db.query(`delete from enrollments where id = $1`, [sent.enrollment_id]),
    /these enrollments have deliveries: delete the deliveries first/,
  );
  await assert.rejects(
    db.query(`delete from outbox_batches where id = $1`, [sent.batch_id]),
    /these outbox batches have deliveries: delete the deliveries first/,
  );
  assert.equal(
    (await db.query(`select 1 from enrollments where id = $1`, [sent.enrollment_id])).length,
    1,
    'the refused delete changed nothing',
  );
  // Erasing a user on request: deliveries first, then the rest goes.
  await db.query(`delete from deliveries where line_user_id = $1`, [U(7)]);
  await db.query(`delete from outbox_batches where id = $1`, [sent.batch_id]);
  await db.query(`delete from enrollments where line_user_id = $1`, [U(7)]);
  assert.equal((await db.query(`select 1 from enrollments where line_user_id = $1`, [U(7)])).length, 0);
  await db.close();
});
