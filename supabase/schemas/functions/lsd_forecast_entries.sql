CREATE OR REPLACE FUNCTION public.lsd_forecast_entries(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce(jsonb_object_agg(scenario_id, n), '{}'::jsonb)
  from (select scenario_id, count(*) as n from enrollments where entered_at >= lsd_ts(p->'since') group by scenario_id) x
$function$;
