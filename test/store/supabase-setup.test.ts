// A database set up the way docs/setup.md says for Supabase: the files of
// supabase/migrations applied in name order as plain SQL (what `supabase db push` or the SQL
// editor does: no migrator of ours), on a database with Supabase's roles and its default
// grants. The engine then ticks on it without migrating (as over the HTTP API), and the API
// roles can do nothing with the engine's tables, sequences or functions.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { serverDatabase } from '../support/db.js';
import { openPostgres } from '../../src/store/postgres.js';
import { Store } from '../../src/store/store.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const ROLES = ['anon', 'authenticated', 'service_role'];

test('migrations pasted in order onto a Supabase-like database: the engine ticks without migrating, and anon and authenticated can touch nothing', async () => {
  const { url, drop } = await serverDatabase();
  cleanups.push(drop);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  cleanups.push(() => admin.end());
  // Supabase's roles (cluster-wide: created once) and the default privileges it gives them.
  for (const role of ROLES) {
    await admin.query(
      `do $$ begin if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role} nologin; end if; end $$`,
    );
  }
  await admin.query(`grant usage on schema public to ${ROLES.join(', ')};
    alter default privileges in schema public grant all on tables to ${ROLES.join(', ')};
    alter default privileges in schema public grant all on sequences to ${ROLES.join(', ')};
    alter default privileges in schema public grant all on functions to ${ROLES.join(', ')};`);

  for (const file of readdirSync('supabase/migrations')
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    await admin.query(readFileSync(`supabase/migrations/${file}`, 'utf8'));
  }

  // The engine, not migrating (as through Supabase's HTTP API): the schema check passes, a tick runs.
  const sql = await openPostgres(url);
  cleanups.push(() => sql.close());
  const store = new Store(sql);
  const { scenarios } = await loadScenarioDir('scenarios');
  const now = Date.parse('2026-11-25T02:00:00Z');
  await runTick({ store, sender: new NoLineSender(), scenarios: scenarios.map((s) => s.compiled), now: () => now });
  await admin.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'follow', to_timestamp($2 / 1000.0))`,
    [U(1), now + 60_000],
  );
  const sender = new NoLineSender();
  await runTick({ store, sender, scenarios: scenarios.map((s) => s.compiled), now: () => now + 120_000 });
  assert.equal(sender.sent.length, 1, 'the welcome went out');

  const as = async (role: string, statement: string) => {
    await admin.query('begin');
    try {
      await admin.query(`set local role ${role}`);
      return (await admin.query(statement)).rows;
    } finally {
      await admin.query('rollback');
    }
  };
  for (const role of ['anon', 'authenticated']) {
    await assert.rejects(as(role, 'select * from events'), /permission denied/, `${role} reads no events`);
    await assert.rejects(
      as(role, 'truncate events'),
      /permission denied/,
      `${role} cannot truncate (RLS does not cover it)`,
    );
    await assert.rejects(
      as(role, `select setval('events_id_seq', 1)`),
      /permission denied/,
      `${role} cannot move a sequence`,
    );
    await assert.rejects(
      as(role, `select lsd_claim_due('{}'::jsonb)`),
      /permission denied/,
      `${role} cannot call the engine`,
    );
    await assert.rejects(as(role, `select lsd_schema_info('{}'::jsonb)`), /permission denied/);
  }
  // Every table of the engine, whichever migration made it.
  const tables = (
    await admin.query<{ tablename: string }>(`select tablename from pg_tables where schemaname = 'public' order by 1`)
  ).rows.map((r) => r.tablename);
  assert.ok(tables.includes('report_sent') && tables.includes('lsd_schema_migrations'));
  for (const table of tables) {
    await assert.rejects(as('anon', `truncate ${table}`), /permission denied/, `anon cannot truncate ${table}`);
    await assert.rejects(as('anon', `select * from ${table}`), /permission denied/, `anon cannot read ${table}`);
  }
  assert.deepEqual(
    await as('service_role', `select lsd_schema_info('{}'::jsonb) is not null as ok`),
    [{ ok: true }],
    'the service role calls the engine',
  );

  // Every engine function that is not one of the inlined SQL helpers has a pinned search_path.
  const unpinned = await admin.query<{ proname: string }>(
    `select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.proname like 'lsd\\_%' and p.prokind = 'f'
       and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
     order by 1`,
  );
  assert.deepEqual(
    unpinned.rows.map((r) => r.proname),
    ['lsd_ms', 'lsd_shard_key', 'lsd_ts'],
  );
});
