// The decision runs every minute, forever: every query it makes on a table that grows
// (runs, enrollments, outbox, events, its own record) is served by an index. Counted by
// PostgreSQL itself: no sequential scan of those tables during decisions (the scenario
// tables, one row per scenario file, are read whole).
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import pg from 'pg';
import { serverStore } from '../support/db.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

const GROWING = ['runs', 'enrollments', 'outbox_batches', 'events', 'deliveries', 'lsd_dispatches'];

test('lsd_dispatch_decide and lsd_dispatcher_status scan no growing table', async () => {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  await db.call('lsd_dispatcher_setup', {
    owner: 'my-shop',
    repo: 'line-scenarios',
    workflow: 'step-delivery.yml',
    budget_minutes: 5000,
  });
  await db.query(
    `insert into scenarios (scenario_id, current_hash, version, activated_at) values ('s', 'h', 1, now())`,
  );
  await db.query(
    `insert into scenario_versions (scenario_id, hash, version, definition)
     values ('s', 'h', 1, '{"entry": {"trigger": {"type": "follow"}}, "steps": [], "exit": [{"event": "purchased"}]}')`,
  );
  // A month of state: 5,000 enrollments not due, 20,000 events taken in, 2,000 sent batches,
  // 3,000 runs, 1,000 starts.
  await db.query(`insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key)
    select 's', 'U' || g, 'a', now(), now(), now() + interval '1 day', 'h', 0 from generate_series(1, 5000) g`);
  await db.query(
    `insert into events (line_user_id, type, status) select 'U' || g, 'follow', 'done' from generate_series(1, 20000) g`,
  );
  await db.query(`insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, status)
    select 's', 'a', 'push', '[]', array['U' || g], 'sent' from generate_series(1, 2000) g`);
  await db.query(`insert into runs (started_at, finished_at, status)
    select now() - g * interval '10 minutes', now() - g * interval '10 minutes' + interval '30 seconds', 'ok' from generate_series(1, 3000) g`);
  await db.query(
    `insert into lsd_dispatches (decided_at, status) select now() - g * interval '15 minutes', 'started' from generate_series(1, 1000) g`,
  );
  await db.query('analyze');

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const scans = async () => {
      await c.query('select pg_stat_clear_snapshot()');
      const r = await c.query<{ relname: string; seq_scan: string }>(
        `select relname, seq_scan from pg_stat_user_tables where relname = any($1)`,
        [GROWING],
      );
      return Object.fromEntries(r.rows.map((x) => [x.relname, Number(x.seq_scan)]));
    };
    await c.query('select pg_stat_force_next_flush()');
    const before = await scans();
    for (const p of [{}, { record: false }])
      await c.query('select lsd_dispatch_decide($1::jsonb)', [JSON.stringify(p)]);
    await c.query(`insert into events (line_user_id, type) values ('U1', 'follow')`);
    const d = await c.query<{ r: { start: boolean; reasons: string[] } }>(
      'select lsd_dispatch_decide($1::jsonb) as r',
      ['{}'],
    );
    assert.deepEqual(d.rows[0]!.r.reasons, ['events: follow'], 'the decision saw the event');
    await c.query('select lsd_dispatcher_status($1::jsonb)', ['{}']);
    await c.query('select pg_stat_force_next_flush()');
    await new Promise((r) => setTimeout(r, 100));
    const after = await scans();
    assert.deepEqual(after, before, 'sequential scans of growing tables during the decisions');
  } finally {
    await c.end();
  }
});
