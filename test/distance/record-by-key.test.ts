// Writing LINE's answers reads about the batches answered, however many others are pending
// (issue 25). With the outbox's statistics older than its backlog, lsd_record_results read
// every pending batch through outbox_pending for each write: at LINE's push rate a tick
// writes 600 answers a call while thousands of pushes wait, and each write grew with the
// backlog. Measured by the rows the write's own transaction fetched, on the real server.
import { afterAll, expect, test } from 'vitest';
import pg from 'pg';
import { serverStore } from '../support/db.js';

const NOW = Date.parse('2026-11-25T03:00:00Z');
const PENDING = 6_000;
const ANSWERED = 200;
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

test('a write of 200 answers reads about its own batches while 6,000 more are pending', async () => {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  await db.query('analyze outbox_batches');
  await db.query(
    `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, created_at)
     select 's', 'a', 'push', jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'n' || g)),
            array['U' || lpad(to_hex(g), 32, '0')], to_timestamp($1 / 1000.0) + g * interval '1 millisecond'
     from generate_series(1, $2) g`,
    [NOW - 60_000, PENDING],
  );
  const leased = await db.query<{ id: string }>(
    `update outbox_batches set lease_owner = 'tick-a', lease_until = to_timestamp($1 / 1000.0) + interval '5 minutes',
            attempts = 1, attempt_started_at = to_timestamp($1 / 1000.0)
     where id in (select id from outbox_batches order by created_at limit $2) returning id`,
    [NOW, ANSWERED],
  );
  const results = leased.map((b) => ({ batch_id: b.id, outcome: 'sent', request_id: 'r', error: null }));
  // One leased by another tick meanwhile (its lease ran out): its answer is not written.
  await db.query(`update outbox_batches set lease_owner = 'tick-b' where id = $1`, [leased[0]!.id]);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query('select lsd_record_results($1::jsonb)', [
      JSON.stringify({ now: NOW, owner: 'tick-a', results }),
    ]);
    const { rows } = await client.query<{ n: string }>(
      `select (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::text as n
       from pg_stat_xact_user_tables where relname = 'outbox_batches'`,
    );
    await client.query('commit');
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(ANSWERED - 1);
    expect(Number(rows[0]!.n)).toBeLessThanOrEqual(ANSWERED * 5);
  } finally {
    await client.end();
  }
  const states = await db.query<{ owner: string | null; status: string; n: string }>(
    `select lease_owner as owner, status, count(*)::text as n from outbox_batches where lease_owner is not null or status <> 'pending'
     group by 1, 2 order by 1, 2`,
  );
  expect(states).toEqual([
    { owner: 'tick-b', status: 'pending', n: '1' },
    { owner: null, status: 'sent', n: String(ANSWERED - 1) },
  ]);
});
