-- Lateness per day of the runs recorded in [from, to) (epoch ms or ISO), days in p.zone
-- (an IANA name; default Asia/Tokyo): [{day, runs, served, p50, p95, max}] in seconds,
-- oldest day first. Counts only.
CREATE OR REPLACE FUNCTION public.lsd_lateness_by_day(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
  with r as (
    select (l.at at time zone coalesce(p->>'zone', 'Asia/Tokyo'))::date as day, l.served, l.max_seconds, l.buckets
    from run_lateness l
    where l.at >= lsd_ts(p->'from') and l.at < lsd_ts(p->'to')),
  d as (
    select day, count(*) as runs, sum(served) as served, max(max_seconds) as max_seconds,
           (select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
            from (select key as k, sum(value::bigint) as n from r r2, jsonb_each_text(r2.buckets)
                  where r2.day = r.day group by key) x) as buckets
    from r group by day)
  select coalesce(jsonb_agg(jsonb_build_object(
           'day', to_char(day, 'YYYY-MM-DD'), 'runs', runs, 'served', served,
           'p50', round(lsd_lateness_quantile(buckets, 0.5, max_seconds)::numeric, 1),
           'p95', round(lsd_lateness_quantile(buckets, 0.95, max_seconds)::numeric, 1),
           'max', round(max_seconds::numeric, 1)) order by day), '[]'::jsonb)
  from d
$function$;
