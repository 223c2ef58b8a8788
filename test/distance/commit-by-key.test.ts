// A page's commit reads about its own enrollments, however many others are due (issue 25,
// migration 20261207001101). The statistics know no lease owner, so lsd_commit_plans' join
// on id and lease_owner was planned as a scan of every due enrollment with the page's plans
// read again for each: the commit grew with the queue and with the square of the page.
// Measured by the rows the commit's own transaction fetched (pg_stat_xact_user_tables), on
// the real server; and the one-call commit-and-claim answers as the two calls did.
import { afterAll, expect, test } from 'vitest';
import pg from 'pg';
import { serverStore } from '../support/db.js';

const NOW = Date.parse('2026-11-25T03:00:00Z');
const DUE = 6_000;
const PAGE = 200;
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

async function dueEnrollments(): Promise<{ url: string; client: pg.Client }> {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  await db.query('analyze enrollments');
  await db.query(
    `insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key)
     select 's', 'U' || lpad(to_hex(g), 32, '0'), 'a', to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0),
            to_timestamp($1 / 1000.0) - interval '1 minute', 'h', g % 1024
     from generate_series(1, $2) g`,
    [NOW, DUE],
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  drops.unshift(() => client.end());
  return { url, client };
}

const claim = (owner: string) => ({ now: NOW, owner, limit: PAGE, lease_seconds: 300, event_types: [] });

/** Each claimed enrollment moved to step b, due tomorrow. */
const plansOf = (answer: { enrollments: { id: string }[] }) =>
  answer.enrollments.map((e) => ({
    id: e.id,
    status: 'active',
    step_id: 'b',
    previous_at: NOW,
    due_at: NOW + 86_400_000,
    scenario_hash: 'h',
  }));

/** Runs the statement in one transaction (kept); returns its answer and the enrollment rows it fetched. */
async function measured<T>(client: pg.Client, sql: string, payload: unknown): Promise<{ r: T; read: number }> {
  await client.query('begin');
  const { rows } = await client.query<{ r: T }>(sql, [JSON.stringify(payload)]);
  const stats = await client.query<{ n: string }>(
    `select (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::text as n
     from pg_stat_xact_user_tables where relname = 'enrollments'`,
  );
  await client.query('commit');
  return { r: rows[0]!.r, read: Number(stats.rows[0]?.n ?? 0) };
}

test('a commit of a page reads about its own enrollments while thousands more are due', async () => {
  const { client } = await dueEnrollments();
  const page = (await client.query('select lsd_claim_due($1::jsonb) as r', [JSON.stringify(claim('tick-a'))])).rows[0]
    .r as { enrollments: { id: string }[] };
  expect(page.enrollments).toHaveLength(PAGE);
  const { r, read } = await measured<{ committed: number; lost: number }>(
    client,
    'select lsd_commit_plans($1::jsonb) as r',
    { now: NOW, owner: 'tick-a', plans: plansOf(page), skipped: [], batches: [] },
  );
  expect(r).toMatchObject({ committed: PAGE, lost: 0 });
  // The page's rows read and locked by key, then updated: a few reads each (4 here), not DUE
  // (6,600 before migration 20261207001102, 6,000 of them a sequential scan).
  expect(read).toBeGreaterThanOrEqual(PAGE);
  expect(read).toBeLessThanOrEqual(PAGE * 5);
});

test('commit-and-claim commits a page and claims the next after it, in one call; a lease lost meanwhile is not committed', async () => {
  const { client } = await dueEnrollments();
  const first = (await client.query('select lsd_claim_due($1::jsonb) as r', [JSON.stringify(claim('tick-a'))])).rows[0]
    .r as { enrollments: { id: string }[] };
  // One of the page's enrollments taken over by another tick (its lease ran out).
  const taken = first.enrollments[0]!.id;
  await client.query(`update enrollments set lease_owner = 'tick-b' where id = $1`, [taken]);
  const { r } = await measured<{
    committed: { committed: number; lost: number };
    claimed: { enrollments: { id: string }[] };
  }>(client, 'select lsd_commit_and_claim($1::jsonb) as r', {
    commit: { now: NOW, owner: 'tick-a', plans: plansOf(first), skipped: [], batches: [] },
    claim: claim('tick-a'),
  });
  expect(r.committed).toMatchObject({ committed: PAGE - 1, lost: 1 });
  const firstIds = new Set(first.enrollments.map((e) => e.id));
  expect(r.claimed.enrollments).toHaveLength(PAGE);
  expect(r.claimed.enrollments.filter((e) => firstIds.has(e.id))).toEqual([]);
  const { rows } = await client.query<{ step_id: string; n: string }>(
    `select step_id, count(*)::text as n from enrollments where id = any($1::uuid[]) group by step_id order by step_id`,
    [[...firstIds]],
  );
  expect(rows).toEqual([
    { step_id: 'a', n: '1' },
    { step_id: 'b', n: String(PAGE - 1) },
  ]);
});
