CREATE OR REPLACE FUNCTION public.lsd_forecast_definitions(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object('id', sc.scenario_id, 'definition', v.definition) order by sc.scenario_id), '[]'::jsonb)
  from scenarios sc join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
$function$;
