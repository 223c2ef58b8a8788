-- line-step-delivery: what the forecast reads (issue 22, item 2). Read only.
--
-- lsd_forecast_inside: a page of the active enrollments (who is inside now), in id order,
--   with what the planner's timing needs to date their remaining steps: the step, when
--   they entered, when the previous step happened, the trigger's properties.
--   p: {after (an enrollment id, the page after it), limit (default 5,000, at most 10,000)}
--   returns {enrollments: [{scenario_id, step_id, entered_at, previous_at, trigger}], next: id or null}
-- lsd_forecast_entries: entries per scenario since a moment (the last 30 days' entry rate).
--   p: {since (epoch ms)}; returns {scenario_id: entries}
-- Both read the whole of what they count (a page at a time for the first): the forecast is
-- a command and a report section, not a tick.

create or replace function lsd_forecast_inside(p jsonb) returns jsonb
language plpgsql stable set plan_cache_mode = force_custom_plan as $$
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
end $$;

create or replace function lsd_forecast_entries(p jsonb) returns jsonb
language sql stable as $$
  select coalesce(jsonb_object_agg(scenario_id, n), '{}'::jsonb)
  from (select scenario_id, count(*) as n from enrollments where entered_at >= lsd_ts(p->'since') group by scenario_id) x
$$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000601_forecast.sql');
