-- line-step-delivery: the schema knows which migrations it has, so the engine can refuse a
-- database that is behind it (or ahead of it); and the engine's functions are secured by
-- their prefix instead of a hand-kept list.
--
-- Migrations are append-only from here on: a schema or engine change is a new file, which
-- ends with `select lsd_migration_applied('<its file name>');` (a test checks that).
-- `supabase db push` applies the files without the project's migrator, so the record of
-- what is applied lives in the schema itself.

create table if not exists lsd_schema_migrations (
  name text primary key,
  applied_at timestamptz not null default now()
);
alter table lsd_schema_migrations enable row level security;
comment on table lsd_schema_migrations is 'The migration files applied to this database (by the engine''s migrator or by supabase db push).';

create or replace function lsd_migration_applied(name_ text) returns void
language sql as $$
  insert into lsd_schema_migrations (name) values (name_) on conflict do nothing;
$$;

-- The files before this one did not record themselves: they are applied if this one is.
select lsd_migration_applied('20261125000001_schema.sql');
select lsd_migration_applied('20261125000002_engine_functions.sql');

-- What the engine reads at the start of every tick (through Supabase's HTTP API too).
create or replace function lsd_schema_info(p jsonb) returns jsonb
language sql stable as $$
  select jsonb_build_object('applied', coalesce(jsonb_agg(name order by name), '[]'::jsonb)) from lsd_schema_migrations;
$$;

-- Every function named lsd_*: executable by the service role only (on Supabase, functions
-- in public are executable by anon and authenticated unless revoked), with a pinned
-- search_path (Supabase's database advisor flags a mutable one). The small SQL helpers
-- used inside the engine's queries (lsd_ts, lsd_ms, lsd_shard_key) keep no SET clause:
-- Postgres inlines a SQL function only without one, and they name nothing but built-ins.
-- Every later migration calls this again, so a new function is covered by its name alone.
create or replace function lsd_secure_functions() returns void
language plpgsql as $$
declare
  f record;
  r text;
begin
  for f in
    select p.oid::regprocedure as sig, p.proname
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proname like 'lsd\_%' and p.prokind = 'f'
  loop
    execute format('revoke all on function %s from public', f.sig);
    foreach r in array array['anon', 'authenticated'] loop
      if exists (select 1 from pg_roles where rolname = r) then
        execute format('revoke all on function %s from %I', f.sig, r);
      end if;
    end loop;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on function %s to service_role', f.sig);
    end if;
    if f.proname not in ('lsd_ts', 'lsd_ms', 'lsd_shard_key') then
      execute format('alter function %s set search_path = public, pg_temp', f.sig);
    end if;
  end loop;
end $$;

-- Tables and their sequences: RLS does not cover TRUNCATE, and a sequence can be advanced
-- with setval, so the API roles get nothing on either. Only the engine's own tables: other
-- tables of the project's public schema are the team's business.
create or replace function lsd_secure_tables(tables_ text[]) returns void
language plpgsql as $$
declare
  t text;
  s text;
  r text;
begin
  foreach t in array tables_ loop
    foreach r in array array['anon', 'authenticated'] loop
      if exists (select 1 from pg_roles where rolname = r) then
        execute format('revoke all on table %I from %I', t, r);
        for s in select seq.relname from pg_depend d join pg_class seq on seq.oid = d.objid and seq.relkind = 'S'
                 where d.refobjid = format('%I', t)::regclass and d.deptype in ('a', 'i') loop
          execute format('revoke all on sequence %I from %I', s, r);
        end loop;
      end if;
    end loop;
  end loop;
end $$;

select lsd_secure_functions();
select lsd_secure_tables(array['line_users', 'line_link_nonces', 'events', 'scenarios', 'scenario_versions', 'enrollments',
                               'outbox_batches', 'deliveries', 'runs', 'lsd_schema_migrations']);
select lsd_migration_applied('20261125000003_schema_version.sql');
