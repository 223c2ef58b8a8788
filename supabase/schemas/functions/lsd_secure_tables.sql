-- Tables and their sequences: RLS does not cover TRUNCATE, and a sequence can be advanced
-- with setval, so the API roles get nothing on either. Only the engine's own tables: other
-- tables of the project's public schema are the team's business.
CREATE OR REPLACE FUNCTION public.lsd_secure_tables(tables_ text[])
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
end $function$;
