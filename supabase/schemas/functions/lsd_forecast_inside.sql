CREATE OR REPLACE FUNCTION public.lsd_forecast_inside(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  lim integer := least(greatest(coalesce((p->>'limit')::integer, 5000), 1), 10000);
  after_ uuid := nullif(p->>'after', '')::uuid;
  rows_ jsonb;
  last_ uuid;
  n integer;
begin
  with page as (
    select id, scenario_id, step_id, entered_at, previous_at, trigger from enrollments
    where status = 'active' and (after_ is null or id > after_)
    order by id limit lim)
  select coalesce(jsonb_agg(jsonb_build_object('scenario_id', scenario_id, 'step_id', step_id,
           'entered_at', lsd_ms(entered_at), 'previous_at', lsd_ms(previous_at), 'trigger', trigger) order by id), '[]'::jsonb),
         max(id::text)::uuid, count(*)
    into rows_, last_, n
  from page;
  return jsonb_build_object('enrollments', rows_, 'next', case when n = lim then last_ end);
end $function$;
