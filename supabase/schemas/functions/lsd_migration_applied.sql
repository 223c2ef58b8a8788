CREATE OR REPLACE FUNCTION public.lsd_migration_applied(name_ text)
 RETURNS void
 LANGUAGE sql
 SET search_path TO 'public', 'pg_temp'
AS $function$
  insert into lsd_schema_migrations (name) values (name_) on conflict do nothing;
$function$;
