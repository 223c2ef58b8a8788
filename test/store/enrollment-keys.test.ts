// Enrollment keys in the schema (migration 20261128000001): one active enrollment per
// scenario, user and key value; enrollments without a key count as one key.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { SqlRpc } from '../../src/store/rpc.js';
import { pgliteStore, serverStore } from '../support/db.js';

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
  assert.deepEqual(rows.map((r) => `${r.enrollment_key ?? '-'} ${r.status}`), ['- active', '- exited', 'R-1 active', 'R-1 finished', 'R-2 active']);
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
