// Enrollment keys in the schema (migration 20261128000001): one active enrollment per
// scenario, user and key value; enrollments without a key count as one key.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { SqlRpc } from '../../src/store/rpc.js';
import type { Store } from '../../src/store/store.js';
import { compileScenario, type CompiledScenario } from '../../src/scenario/compile.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { toBatches } from '../../src/line/batching.js';
import { NoLineSender } from '../../src/line/sender.js';
import { formatLocal, localToInstant, HOUR } from '../../src/time/zoned.js';
import { pgliteStore, serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const U1 = `U${'1'.repeat(32)}`;

/** Inserts an enrollment of the reservation scenario for U1 with this key and status. */
const insert = (db: SqlRpc, key: string | null, status = 'active') =>
  db.query(
    `insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key, enrollment_key)
     values ('reservation', $1, $2, 'thanks', now(), now(), now(), 'h', 0, $3)`,
    [U1, status, key],
  );

async function checkRule(db: SqlRpc): Promise<void> {
  // The index of one active enrollment per scenario and user is the ingest functions' conflict
  // target until they insert by key; without it, the per-key rule is what remains.
  await db.query('drop index if exists enrollments_one_active');
  await insert(db, 'R-1');
  await insert(db, 'R-2');
  await assert.rejects(insert(db, 'R-1'), /enrollments_one_active_per_key/, 'the same booking twice');
  await insert(db, 'R-1', 'finished');
  await insert(db, null);
  await assert.rejects(insert(db, null), /enrollments_one_active_per_key/, 'two enrollments without a key are one key');
  await insert(db, null, 'exited');
  const rows = await db.query<{ enrollment_key: string | null; status: string }>(
    `select enrollment_key, status from enrollments order by enrollment_key nulls first, status`,
  );
  assert.deepEqual(
    rows.map((r) => `${r.enrollment_key ?? '-'} ${r.status}`),
    ['- active', '- exited', 'R-1 active', 'R-1 finished', 'R-2 active'],
  );
}

test('per key on the real server: two bookings active at once, never the same booking twice', async () => {
  const { db, drop } = await serverStore();
  try {
    await checkRule(db);
  } finally {
    await drop();
  }
});

test('per key on PGlite: the same rule', async () => {
  const { db } = await pgliteStore();
  await checkRule(db);
  await db.close();
});

// ---- whole ticks on the real server: two bookings, a moved booking, a cancellation ----

const { scenarios: loaded } = await loadScenarioDir('scenarios');
const reservationSample = loaded.find((s) => s.scenario.id === 'reservation')!.compiled;
const TZ = 'Asia/Tokyo';
const at = (y: number, mo: number, d: number, h: number, mi = 0) => localToInstant(TZ, y, mo, d, h, mi);

/** A reservation event for U1: the date written without an offset, read in the scenario's zone. */
const reserve = (db: SqlRpc, type: string, occurredAt: number, properties: Record<string, unknown>) =>
  db.query(
    `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, $2, $3, to_timestamp($4 / 1000.0), 'test')`,
    [U1, type, JSON.stringify(properties), occurredAt],
  );
const booking = (id: string, day: number, hour: number) => ({
  reservationId: id,
  reservationAt: `2026-12-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`,
  reservationLabel: `12/${day} ${hour}:00`,
});

/** Ticks every 3 hours (a sparse schedule: the moments do not depend on it) from `from` to `to`, inserting each event when its time comes. */
async function tickThrough(
  store: Store,
  db: SqlRpc,
  compiled: CompiledScenario[],
  from: number,
  to: number,
  events: { at: number; type: string; properties: Record<string, unknown> }[],
) {
  const clock = new Clock(from);
  const sender = new NoLineSender();
  await runTick({ store, sender, scenarios: compiled, now: clock.now }); // switched on
  const pending = [...events].sort((a, b) => a.at - b.at);
  while (clock.t < to) {
    clock.advance(3 * HOUR);
    while (pending.length && pending[0]!.at <= clock.t) {
      const e = pending.shift()!;
      await reserve(db, e.type, e.at, e.properties);
    }
    await runTick({ store, sender, scenarios: compiled, now: clock.now });
  }
  const rows = await store.deliveriesOf([U1]);
  const texts = sender.sent.flatMap((b) => b.messages.map((m) => (m.type === 'text' ? m.text : m.type)));
  return {
    sent: rows.filter((r) => r.status === 'sent').map((r) => `${r.stepId} ${formatLocal(Number(r.dueAt), TZ)}`),
    texts,
  };
}

test('two bookings in one week: both reminders go out, each the day before its own visit (real server)', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const r = await tickThrough(store, db, [reservationSample], at(2026, 12, 1, 8), at(2026, 12, 8, 0), [
      { at: at(2026, 12, 1, 9, 5), type: 'reservation_made', properties: booking('R-1', 4, 15) },
      { at: at(2026, 12, 2, 9, 5), type: 'reservation_made', properties: booking('R-2', 6, 11) },
    ]);
    assert.deepEqual(
      r.sent.filter((s) => !s.startsWith('next-booking')),
      [
        'thanks 2026-12-01 09:05',
        'thanks 2026-12-02 09:05',
        'reminder 2026-12-03 15:00',
        'reminder 2026-12-05 11:00',
        'follow-up 2026-12-05 19:00',
        'follow-up 2026-12-07 19:00',
      ],
    );
    assert.ok(
      r.texts.some((t) => t.includes('明日はご予約日です：12/4 15:00')) &&
        r.texts.some((t) => t.includes('明日はご予約日です：12/6 11:00')),
    );
    const active = await db.query<{ n: string }>(
      `select count(*) as n from enrollments where status = 'active' and line_user_id = $1`,
      [U1],
    );
    assert.equal(Number(active[0]!.n), 2, 'two enrollments, one per booking');
  } finally {
    await drop();
  }
});

test('a moved booking: the reminder goes out the day before the new date, not the old (real server)', async () => {
  const { store, db, drop } = await serverStore();
  // Update in place (reentry once): the thanks is not repeated; the reminder ahead is re-timed.
  const updating = compileScenario({ ...reservationSample.scenario, reentry: 'once' });
  try {
    const r = await tickThrough(store, db, [updating], at(2026, 12, 1, 8), at(2026, 12, 10, 0), [
      { at: at(2026, 12, 1, 9, 5), type: 'reservation_made', properties: booking('R-1', 4, 15) },
      { at: at(2026, 12, 2, 9, 5), type: 'reservation_made', properties: booking('R-1', 8, 15) },
    ]);
    assert.deepEqual(
      r.sent.filter((s) => !s.startsWith('next-booking')),
      ['thanks 2026-12-01 09:05', 'reminder 2026-12-07 15:00', 'follow-up 2026-12-09 19:00'],
    );
    assert.ok(r.texts.some((t) => t.includes('明日はご予約日です：12/8 15:00')));
    // The sample starts a moved booking over: a new thanks names the new date.
    const { store: s2, db: db2, drop: drop2 } = await serverStore();
    try {
      const restarted = await tickThrough(s2, db2, [reservationSample], at(2026, 12, 1, 8), at(2026, 12, 10, 0), [
        { at: at(2026, 12, 1, 9, 5), type: 'reservation_made', properties: booking('R-1', 4, 15) },
        { at: at(2026, 12, 2, 9, 5), type: 'reservation_made', properties: booking('R-1', 8, 15) },
      ]);
      assert.deepEqual(
        restarted.sent.filter((s) => !s.startsWith('next-booking')),
        [
          'thanks 2026-12-01 09:05',
          'thanks 2026-12-02 09:05',
          'reminder 2026-12-07 15:00',
          'follow-up 2026-12-09 19:00',
        ],
      );
    } finally {
      await drop2();
    }
  } finally {
    await drop();
  }
});

test("a cancellation ends its own booking; the other booking's reminder still goes out (real server)", async () => {
  const { store, db, drop } = await serverStore();
  try {
    const r = await tickThrough(store, db, [reservationSample], at(2026, 12, 1, 8), at(2026, 12, 6, 0), [
      { at: at(2026, 12, 1, 9, 5), type: 'reservation_made', properties: booking('R-1', 4, 15) },
      { at: at(2026, 12, 1, 9, 6), type: 'reservation_made', properties: booking('R-2', 5, 15) },
      { at: at(2026, 12, 2, 9, 5), type: 'reservation_cancelled', properties: { reservationId: 'R-1' } },
    ]);
    assert.deepEqual(
      r.sent.filter((s) => s.startsWith('reminder')),
      ['reminder 2026-12-04 15:00'],
    );
    const rows = await db.query<{ enrollment_key: string; status: string }>(
      `select enrollment_key, status from enrollments where line_user_id = $1 order by enrollment_key`,
      [U1],
    );
    assert.deepEqual(
      rows.map((x) => `${x.enrollment_key} ${x.status}`),
      ['R-1 exited', 'R-2 active'],
    );
  } finally {
    await drop();
  }
});

test('one user twice in the same step: never twice in one multicast', () => {
  const send = (enrollmentId: string, userId: string) => ({
    enrollmentId,
    userId,
    scenarioId: 's',
    decision: {
      kind: 'send' as const,
      stepId: 'x',
      dueAt: 0,
      messages: [{ type: 'text' as const, text: 'same' }],
      uniform: true,
      aggregationUnit: 'u',
    },
  });
  const batches = toBatches([send('a', U1), send('b', `U${'2'.repeat(32)}`), send('c', U1)]);
  assert.deepEqual(
    batches.map((b) => b.members.map((m) => m.enrollmentId)),
    [['a', 'b'], ['c']],
  );
  assert.deepEqual(
    batches.map((b) => b.kind),
    ['multicast', 'push'],
  );
});
