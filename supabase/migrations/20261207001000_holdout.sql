-- line-step-delivery: holdout groups (issue 26 item 1, docs/measuring.md).
--
-- A scenario with "holdout": {"percent": N} holds out a fixed share of the users who enter:
-- the planner decides their message steps like everyone's (same moment, same rendering) and
-- records each as a delivery of kind holdout, status skipped, instead of sending it. So:
-- * deliveries take the kind holdout;
-- * lsd_holdout_report compares, per scenario, the users who entered in a period and got a
--   message step decided: the treated (a delivery of kind send or reply) and the held out
--   (kind holdout); how many of each reached the goal (converted_at); and how many have
--   both (their group moved when the holdout's percent or salt changed while they were
--   inside: left out of the comparison, and counted apart). Counts only.
--   p: {from, to (epoch ms, to exclusive), scenario_ids: [text]}
--   returns [{scenario_id, treated, treated_converted, held_out, held_out_converted, moved}]
-- * enrollments_entered serves it: the enrollments of a scenario entered in the period,
--   then each one's deliveries through deliveries_once (enrollment_id first). O(entrants
--   of the period), never the whole table.

alter table deliveries drop constraint if exists deliveries_kind;
alter table deliveries add constraint deliveries_kind check (kind in ('send', 'expire', 'fail', 'act', 'reply', 'holdout')) not valid;
alter table deliveries validate constraint deliveries_kind;

create index if not exists enrollments_entered on enrollments (scenario_id, entered_at);

create or replace function lsd_holdout_report(p jsonb) returns jsonb
language sql stable set plan_cache_mode = force_custom_plan as $$
  with e as (
    select e.scenario_id, e.converted_at is not null as converted, g.held, g.sent
    from enrollments e
    cross join lateral (
      select coalesce(bool_or(d.kind = 'holdout'), false) as held,
             coalesce(bool_or(d.kind in ('send', 'reply')), false) as sent
      from deliveries d where d.enrollment_id = e.id) g
    where e.scenario_id in (select jsonb_array_elements_text(coalesce(p->'scenario_ids', '[]')))
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
select lsd_migration_applied('20261207001000_holdout.sql');
