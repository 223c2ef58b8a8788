-- What the engine reads at the start of every tick (through Supabase's HTTP API too).
CREATE OR REPLACE FUNCTION public.lsd_schema_info(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select jsonb_build_object('applied', coalesce(jsonb_agg(name order by name), '[]'::jsonb)) from lsd_schema_migrations;
$function$;
