-- Every function named lsd_*: executable by the service role only (on Supabase, functions
-- in public are executable by anon and authenticated unless revoked), with a pinned
-- search_path (Supabase's database advisor flags a mutable one). The small SQL helpers
-- used inside the engine's queries (lsd_ts, lsd_ms, lsd_shard_key) keep no SET clause:
-- Postgres inlines a SQL function only without one, and they name nothing but built-ins.
-- Every later migration calls this again, so a new function is covered by its name alone.
CREATE OR REPLACE FUNCTION public.lsd_secure_functions()
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
end $function$;
