CREATE OR REPLACE FUNCTION public.lsd_route_report(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
  with f as (
    select distinct on (e.line_user_id, e.properties->>'route')
           e.line_user_id, e.properties->>'route' as route, e.occurred_at as at
    from events e
    where e.type = 'follow' and e.line_user_id is not null
      and e.occurred_at >= lsd_ts(p->'from') and e.occurred_at < lsd_ts(p->'to')
    order by e.line_user_id, e.properties->>'route', e.occurred_at),
  b as (
    select f.*, (select min(u.occurred_at) from events u
                 where u.line_user_id = f.line_user_id and u.type = 'unfollow'
                   and u.occurred_at > f.at and u.occurred_at <= f.at + interval '30 days') as blocked_at
    from f),
  r as (
    select route, count(*) as added,
           count(*) filter (where blocked_at <= at + interval '7 days') as blocked_7d,
           count(blocked_at) as blocked_30d
    from b group by route),
  s as (
    select f.route, en.scenario_id, count(distinct f.line_user_id) as entered,
           count(distinct f.line_user_id) filter (where en.converted_at is not null) as converted
    from f join enrollments en on en.line_user_id = f.line_user_id
      and en.entered_at >= f.at and en.entered_at < lsd_ts(p->'to')
    group by f.route, en.scenario_id),
  top as (
    select * from r order by added desc, route nulls last
    limit coalesce((p->>'routes_limit')::integer, 50) + 1)
  select jsonb_build_object(
    'routes', coalesce((
      select jsonb_agg(jsonb_build_object(
        'route', t.route, 'added', t.added, 'blocked_7d', t.blocked_7d, 'blocked_30d', t.blocked_30d,
        'scenarios', coalesce((select jsonb_agg(jsonb_build_object('scenario_id', s.scenario_id, 'entered', s.entered, 'converted', s.converted)
                                                order by s.scenario_id)
                               from s where s.route is not distinct from t.route), '[]'::jsonb))
        order by t.added desc, t.route nulls last)
      from (select * from top order by added desc, route nulls last limit coalesce((p->>'routes_limit')::integer, 50)) t), '[]'::jsonb),
    'more', (select count(*) from top) > coalesce((p->>'routes_limit')::integer, 50))
$function$;
