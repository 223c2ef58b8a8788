CREATE OR REPLACE FUNCTION public.lsd_holdout_report(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
  with e as (
    select e.scenario_id, e.converted_at is not null as converted, g.held, g.sent
    from enrollments e
    cross join lateral (
      select coalesce(bool_or(d.kind = 'holdout'), false) as held,
             coalesce(bool_or(d.kind in ('send', 'reply')), false) as sent
      from deliveries d where d.enrollment_id = e.id) g
    where e.scenario_id = any(array(select jsonb_array_elements_text(coalesce(p->'scenario_ids', '[]'))))
      and e.entered_at >= lsd_ts(p->'from') and e.entered_at < lsd_ts(p->'to')),
  s as (
    select scenario_id,
           count(*) filter (where sent and not held) as treated,
           count(*) filter (where sent and not held and converted) as treated_converted,
           count(*) filter (where held and not sent) as held_out,
           count(*) filter (where held and not sent and converted) as held_out_converted,
           count(*) filter (where held and sent) as moved
    from e group by scenario_id)
  select coalesce(jsonb_agg(to_jsonb(s) order by scenario_id), '[]'::jsonb) from s
$function$;
