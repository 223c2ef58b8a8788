// Applies the migrations (the same files `supabase db push` applies) to PGlite or a
// direct Postgres connection, each once, in order, under an advisory lock so that two
// ticks starting together do not both apply them.
import { MIGRATIONS } from './migrations.js';
import type { SqlRpc } from './rpc.js';

const LOCK = 7_310_552_410; // any constant, shared by every migrator of this project

/** Applies the given migrations (by default every one this release carries) that are not yet applied. */
export async function migrate(
  db: SqlRpc,
  migrations: readonly { name: string; sql: string }[] = MIGRATIONS,
): Promise<string[]> {
  await db.exec(`create table if not exists lsd_schema_migrations (name text primary key, applied_at timestamptz not null default now());
    alter table lsd_schema_migrations enable row level security;`);
  const applied: string[] = [];
  for (const { name, sql } of migrations) {
    const done = await db.query('select 1 from lsd_schema_migrations where name = $1', [name]);
    if (done.length) continue;
    await db.exec(`begin;
      select pg_advisory_xact_lock(${LOCK});
      ${sql}
      insert into lsd_schema_migrations (name) values ('${name.replace(/'/g, "''")}') on conflict do nothing;
      commit;`);
    applied.push(name);
  }
  return applied;
}

/** True when the database has none of line-step-delivery's tables: nothing there to move forward. */
export async function isEmptyDatabase(db: SqlRpc): Promise<boolean> {
  const [row] = await db.query<{ empty: boolean }>(
    `select to_regclass('lsd_schema_migrations') is null and to_regclass('enrollments') is null as empty`,
  );
  return row?.empty === true;
}
