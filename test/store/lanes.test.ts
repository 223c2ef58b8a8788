// A tick plans pages side by side over two connections (lanes). Each lane takes its own
// share of the users, so a user's enrollments are never planned in two pages at once:
// the frequency cap, which counts what earlier pages committed, still holds.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { localToInstant } from '../../src/time/zoned.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = ['friend-welcome', 'subscription', 'after-shipment'].map(
  (id) => scenarios.find((s) => s.scenario.id === id)!.compiled,
);
const USERS = 120;

test('two lanes on a real server: every due step decided once, and a cap of 1 a day holds for users in three scenarios', async () => {
  const { store, db, drop } = await serverStore();
  try {
    assert.equal(store.lanes, 2, 'a server connection plans two pages at a time');
    const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
    await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
    // Each user's three triggers a second apart, so their enrollments fall due next to
    // each other and straddle pages of 4.
    await db.query(
      `insert into events (line_user_id, type, properties, occurred_at)
       select 'U' || lpad(to_hex(u), 32, '0'), (array['follow', 'subscription_started', 'shipped'])[k], '{}', to_timestamp($1 / 1000.0 + 3 * u + k)
       from generate_series(1, ${USERS}) u, generate_series(1, 3) k`,
      [clock.t],
    );
    clock.advance(3_600_000);
    const sender = new NoLineSender();
    const result = await runTick({
      store,
      sender,
      scenarios: compiled,
      now: clock.now,
      pageSize: 4,
      lanes: 2,
      frequencyCap: { perDay: 1, timezone: 'Asia/Tokyo' },
    });
    const recipients = sender.sent.flatMap((b) => b.recipients);
    const perUser = new Map<string, number>();
    for (const r of recipients) perUser.set(r, (perUser.get(r) ?? 0) + 1);
    assert.equal(perUser.size, USERS, 'every user got their one message of the day');
    assert.deepEqual([...new Set(perUser.values())], [1], 'and no user got two');
    assert.equal(
      result.counts.total('capped'),
      2 * USERS,
      'the other two steps of each user were deferred to tomorrow',
    );
    const decided = await db.query<{ n: number; d: number }>(
      `select count(*)::int as n, count(distinct (enrollment_id, step_id, due_at))::int as d from deliveries`,
    );
    assert.equal(decided[0]!.n, decided[0]!.d, 'no step decided twice');
    const leased = await db.query<{ n: number }>(
      `select count(*)::int as n from enrollments where lease_owner is not null`,
    );
    assert.equal(leased[0]!.n, 0, 'every lease was given back');
  } finally {
    await drop();
  }
});
