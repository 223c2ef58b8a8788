-- line-step-delivery: the holdout comparison reads only the scenarios asked for
-- (redefines lsd_holdout_report of 20261207001000_holdout.sql, its only definition).
-- "scenario_id in (select ...)" was planned as a semi join after a bitmap scan of
-- enrollments_entered on the period alone: every scenario's entrants were read, then
-- filtered (20,160 index entries for 2,016 asked, 80 ms of 140 ms, on 200,000 enrollments
-- over 20 scenarios). With "= any(array(...))" both columns of the index bound the scan.

create or replace function lsd_holdout_report(p jsonb) returns jsonb
language sql stable set plan_cache_mode = force_custom_plan as $$
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
$$;

select lsd_secure_functions();
select lsd_migration_applied('20261207001003_holdout_report_by_scenario.sql');
