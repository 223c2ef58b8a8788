// The claims read about as many rows as they take, even right after a burst, when the table
// statistics still say the queue is empty (autovacuum has not analyzed it yet). Before
// migration 20261202000001 the planner then scanned every row of the queue and sorted it
// for each page, so a tick with 100,000 due did not finish. Measured by the rows the claim's
// own transaction fetched (pg_stat_xact_user_tables), on the real server.
import { afterAll, expect, test } from 'vitest';
import pg from 'pg';
import { serverStore } from '../support/db.js';

const NOW = Date.parse('2026-11-25T03:00:00Z');
const QUEUED = 4_000;
const PAGE = 50;
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

/** Calls fn in one transaction and returns the rows it fetched from table (index and heap). */
async function rowsRead(url: string, table: string, fn: string, payload: unknown): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`select ${fn}($1::jsonb)`, [JSON.stringify(payload)]);
    const { rows } = await client.query<{ n: string }>(
      `select (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::text as n
       from pg_stat_xact_user_tables where relname = $1`,
      [table],
    );
    await client.query('rollback');
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

test('a burst of due enrollments the statistics have not seen: each page reads about its own rows', async () => {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  await db.query(
    `insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key)
     select 's', 'U' || lpad(to_hex(g), 32, '0'), 'a', to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0),
            to_timestamp($1 / 1000.0) + interval '1 day', 'h', g % 1024
     from generate_series(1, $2) g`,
    [NOW, QUEUED * 5],
  );
  await db.query('analyze enrollments');
  await db.query(
    `update enrollments set due_at = to_timestamp($1 / 1000.0) - interval '1 minute' where line_user_id in (
       select 'U' || lpad(to_hex(g), 32, '0') from generate_series(1, $2) g)`,
    [NOW, QUEUED],
  );
  const read = await rowsRead(url, 'enrollments', 'lsd_claim_due', {
    now: NOW,
    owner: 'tick-a',
    limit: PAGE,
    lease_seconds: 300,
    event_types: [],
    scenario_ids: ['s'],
  });
  // The page's rows, each fetched again by the lease update: about 2 × PAGE, not QUEUED.
  expect(read).toBeGreaterThanOrEqual(PAGE);
  expect(read).toBeLessThan(PAGE * 4);
});

test('a burst of pending batches the statistics have not seen: each claim reads about its own batches', async () => {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  await db.query('analyze outbox_batches');
  await db.query(
    `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, created_at)
     select 's', 'a', 'push', jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'n' || g)),
            array['U' || lpad(to_hex(g), 32, '0')], to_timestamp($1 / 1000.0) + g * interval '1 millisecond'
     from generate_series(1, $2) g`,
    [NOW - 60_000, QUEUED],
  );
  const read = await rowsRead(url, 'outbox_batches', 'lsd_claim_batches', {
    now: NOW,
    owner: 'tick-a',
    limit: PAGE,
    lease_seconds: 300,
  });
  // The page read, merged (by key) and leased: a few reads of each of its batches.
  expect(read).toBeGreaterThanOrEqual(PAGE);
  expect(read).toBeLessThan(PAGE * 8);
});

test('a burst of new events the statistics have not seen: each ingest page reads about its own events', async () => {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  await db.query('analyze events');
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at, source)
     select 'U' || lpad(to_hex(g), 32, '0'), 'purchased', '{}', to_timestamp($1 / 1000.0) - interval '1 minute', 'test'
     from generate_series(1, $2) g`,
    [NOW, QUEUED],
  );
  const read = await rowsRead(url, 'events', 'lsd_ingest_claim', {
    now: NOW,
    owner: 'tick-a',
    limit: PAGE,
    lease_seconds: 300,
  });
  // The page's events, read, leased, applied and marked done: a few reads of each.
  expect(read).toBeGreaterThanOrEqual(PAGE);
  expect(read).toBeLessThan(PAGE * 10);
});

test('the claims keep the setting that gives them that plan (a later create or replace must repeat it)', async () => {
  const { db, drop } = await serverStore();
  drops.push(drop);
  const rows = await db.query<{ proname: string; settings: string[] | null }>(
    `select proname, proconfig as settings from pg_proc
     where proname in ('lsd_claim_due', 'lsd_claim_batches', 'lsd_pick_batches', 'lsd_merge_batches', 'lsd_ingest_claim',
                       'lsd_ingest_peek', 'lsd_peek_due')
     order by proname`,
  );
  expect(rows.map((r) => r.proname)).toHaveLength(7);
  for (const r of rows) {
    expect({ fn: r.proname, settings: r.settings }).toMatchObject({
      settings: expect.arrayContaining(['enable_bitmapscan=off', 'enable_seqscan=off']) as unknown,
    });
  }
});
