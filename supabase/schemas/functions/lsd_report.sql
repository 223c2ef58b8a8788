-- The report for a period (p and the answer: see 20261129000001_report.sql).
CREATE OR REPLACE FUNCTION public.lsd_report(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET work_mem TO '64MB'
 SET enable_sort TO 'off'
 SET jit TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  f timestamptz := lsd_ts(p->'from');
  t timestamptz := lsd_ts(p->'to');
  -- The whole 15-minute buckets of the period come from report_sent, its partial edges from the batches.
  f_bucket timestamptz;
  t_bucket timestamptz;
  only_ text := nullif(p->>'scenario_id', '');
  lim integer := coalesce((p->>'limit')::integer, 50);
  known jsonb;
  ids text[];
  zones text[];
  tz text;
  more boolean;
  e_rows jsonb;
  every_scenario boolean;
  result jsonb;
begin
  if f is null or t is null or f >= t then
    raise exception 'lsd_report: from must be before to (epoch milliseconds)' using errcode = '22023';
  end if;
  f_bucket := lsd_bucket(f + interval '15 minutes' - interval '1 microsecond');
  t_bucket := greatest(lsd_bucket(t), f_bucket);
  select coalesce(jsonb_agg(scenario_id order by scenario_id), '[]'::jsonb) into known from scenarios;
  if only_ is not null and not known ? only_ then
    return jsonb_build_object('known', known, 'unknown_scenario', true, 'scenarios', '[]'::jsonb, 'next', null);
  end if;
  ids := array(
    select scenario_id from scenarios
    where (only_ is null or scenario_id = only_) and (p->>'after' is null or scenario_id > p->>'after')
    order by scenario_id limit lim + 1);
  more := cardinality(ids) > lim;
  if more then ids := ids[1:lim]; end if;
  every_scenario := only_ is null and p->>'after' is null and not more;

  -- Each scenario's zone (its definition's, else Asia/Tokyo); one PostgreSQL does not know
  -- falls back to Asia/Tokyo instead of failing the report.
  zones := '{}';
  for i in 1 .. coalesce(cardinality(ids), 0) loop
    select coalesce(v.definition->>'timezone', 'Asia/Tokyo') into tz
    from scenarios sc left join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
    where sc.scenario_id = ids[i];
    begin
      perform now() at time zone tz;
    exception when others then
      tz := 'Asia/Tokyo';
    end;
    zones := zones || coalesce(tz, 'Asia/Tokyo');
  end loop;

  -- One pass over the enrollments, grouped finely enough to roll up every figure below: a
  -- statement of its own, so that it runs in parallel (a part of the big one below would not).
  select coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) into e_rows from (
    select e.scenario_id, e.step_id,
           -- The reason's category: event and step ids, never an error text (it may quote data).
           case when e.status = 'exited' and e.ended_at >= f and e.ended_at < t then
             case when e.exit_reason is null then 'unknown'
                  when e.exit_reason = 'unfollowed' or e.exit_reason = 'restarted by a new trigger'
                    or e.exit_reason ~ '^(exit|goal): [a-z][a-z0-9_]*$' then e.exit_reason
                  when e.exit_reason like 'failed: %' or e.exit_reason like 'step "%": %' then 'failed'
                  when e.exit_reason like 'step "%" was removed from the scenario' then 'step removed'
                  when e.exit_reason in ('the scenario was retired', 'the scenario was removed') then 'scenario retired'
                  else 'other' end end as exit_reason,
           case when e.converted_at >= f and e.converted_at < t
                then date_bin('15 minutes', e.converted_at, timestamptz '2000-01-01 00:00:00+00') end as converted_bucket,
           count(*) filter (where e.entered_at >= f and e.entered_at < t) as entered,
           count(*) filter (where e.entered_at >= f and e.entered_at < t and e.converted_at is not null) as goal_reached,
           count(*) filter (where e.status = 'active') as waiting,
           count(*) filter (where e.status = 'finished' and e.ended_at >= f and e.ended_at < t) as finished,
           count(*) filter (where e.status = 'exited' and e.ended_at >= f and e.ended_at < t) as exited,
           count(*) filter (where e.converted_at >= f and e.converted_at < t) as conversions
    from enrollments e
    where every_scenario or e.scenario_id = any(ids)
    group by 1, 2, 3, 4) x;

  with scope as materialized (
    select x.id as scenario_id, x.tz, v.definition
    from unnest(ids, zones) as x(id, tz)
    join scenarios sc on sc.scenario_id = x.id
    left join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash),
  defined as (
    select s.scenario_id, st.value->>'id' as step_id, st.value->>'type' as step_type, st.ord::integer as ord
    from scope s cross join lateral jsonb_array_elements(coalesce(s.definition->'steps', '[]'::jsonb)) with ordinality as st(value, ord)),
  -- The pass over the enrollments (above), with the goals' buckets as days of the scenario's zone.
  e as (
    select x.scenario_id, x.step_id, x.exit_reason, (x.converted_bucket at time zone s.tz)::date as converted_day,
           x.entered, x.goal_reached, x.waiting, x.finished, x.exited, x.conversions
    from jsonb_to_recordset(e_rows) as x(scenario_id text, step_id text, exit_reason text, converted_bucket timestamptz,
           entered bigint, goal_reached bigint, waiting bigint, finished bigint, exited bigint, conversions bigint)
    join scope s on s.scenario_id = x.scenario_id),
  -- Sent and refused: report_sent's buckets inside the period, and the batches of its edges.
  rolled as materialized (
    select r.scenario_id, r.step_id, nullif(r.aggregation_unit, '') as aggregation_unit, r.bucket as at, r.sent, r.failed
    from report_sent r
    where r.bucket >= f_bucket and r.bucket < t_bucket and r.scenario_id = any(ids)
    union all
    -- (Each edge its own range, so each is one short index scan.)
    select b.scenario_id, b.step_id, b.aggregation_unit, b.sent_at, cardinality(b.recipients), 0
    from outbox_batches b
    where b.status = 'sent' and b.sent_at >= f and b.sent_at < least(f_bucket, t) and b.scenario_id = any(ids)
    union all
    select b.scenario_id, b.step_id, b.aggregation_unit, b.sent_at, cardinality(b.recipients), 0
    from outbox_batches b
    where b.status = 'sent' and b.sent_at >= t_bucket and b.sent_at < t and b.scenario_id = any(ids)
    union all
    select b.scenario_id, b.step_id, b.aggregation_unit, b.updated_at, 0, cardinality(b.recipients)
    from outbox_batches b
    where b.status = 'failed' and b.updated_at >= f and b.updated_at < least(f_bucket, t) and b.scenario_id = any(ids)
    union all
    select b.scenario_id, b.step_id, b.aggregation_unit, b.updated_at, 0, cardinality(b.recipients)
    from outbox_batches b
    where b.status = 'failed' and b.updated_at >= t_bucket and b.updated_at < t and b.scenario_id = any(ids)),
  sent as (
    select r.scenario_id, r.step_id, r.aggregation_unit, (r.at at time zone s.tz)::date as day,
           (r.at at time zone 'Asia/Tokyo')::date as line_day, sum(r.sent)::bigint as n
    from rolled r join scope s on s.scenario_id = r.scenario_id
    where r.sent > 0
    group by 1, 2, 3, 4, 5),
  refused as (
    select r.scenario_id, r.step_id, sum(r.failed)::bigint as n
    from rolled r where r.failed > 0
    group by 1, 2),
  decided as (
    select d.scenario_id, d.step_id,
           count(*) filter (where d.kind = 'expire') as expired,
           count(*) filter (where d.kind = 'fail') as failed
    from deliveries d
    where d.kind <> 'send' and d.created_at >= f and d.created_at < t and d.scenario_id = any(ids)
    group by 1, 2),
  review as (
    select b.scenario_id, b.step_id, sum(cardinality(b.recipients))::bigint as n
    from outbox_batches b where b.status = 'needs_review' and b.scenario_id = any(ids)
    group by 1, 2),
  -- LINE's statistics of the units sent in the period, over the UTC+9 days they were sent on.
  unit_days as (
    select scenario_id, step_id, aggregation_unit, line_day, sum(n) as n
    from sent where aggregation_unit is not null group by 1, 2, 3, 4),
  units as (
    select u.scenario_id, u.step_id, u.aggregation_unit,
           sum(u.n)::bigint as sent,
           count(*) as days_sent,
           count(st.day) as days_fetched,
           count(*) filter (where st.day is not null and st.unique_impression is null) as days_hidden,
           sum(u.n) filter (where st.unique_impression is not null)::bigint as sent_with_opens,
           sum(st.unique_impression)::bigint as unique_impression,
           sum(u.n) filter (where st.unique_click is not null)::bigint as sent_with_clicks,
           sum(st.unique_click)::bigint as unique_click,
           sum(st.impression)::bigint as impression,
           sum(st.click)::bigint as click
    from unit_days u
    left join line_unit_statistics st on st.aggregation_unit = u.aggregation_unit and st.day = u.line_day
    group by 1, 2, 3),
  e_step as (
    select scenario_id, step_id, sum(waiting)::bigint as waiting, sum(exited)::bigint as exited from e group by 1, 2),
  sent_step as (
    select scenario_id, step_id, sum(n)::bigint as n from sent group by 1, 2),
  units_step as (
    select u.scenario_id, u.step_id, jsonb_agg(jsonb_build_object(
             'unit', u.aggregation_unit, 'sent', u.sent, 'days_sent', u.days_sent, 'days_fetched', u.days_fetched,
             'days_hidden', u.days_hidden, 'sent_with_opens', u.sent_with_opens, 'unique_impression', u.unique_impression,
             'sent_with_clicks', u.sent_with_clicks, 'unique_click', u.unique_click, 'impression', u.impression, 'click', u.click)
             order by u.aggregation_unit) as units
    from units u group by 1, 2),
  step_keys as (
    select scenario_id, step_id from defined
    union select scenario_id, step_id from e_step where waiting > 0 or exited > 0
    union select scenario_id, step_id from sent_step
    union select scenario_id, step_id from refused
    union select scenario_id, step_id from decided
    union select scenario_id, step_id from review),
  steps as (
    select k.scenario_id, jsonb_agg(jsonb_build_object(
             'id', k.step_id,
             'type', d.step_type,
             'in_definition', d.ord is not null,
             'sent', coalesce(ss.n, 0),
             'failed', coalesce(rf.n, 0) + coalesce(dc.failed, 0),
             'expired', coalesce(dc.expired, 0),
             'needs_review', coalesce(rv.n, 0),
             'waiting', coalesce(es.waiting, 0),
             'exited', coalesce(es.exited, 0),
             'units', coalesce(us.units, '[]'::jsonb))
             order by d.ord nulls last, k.step_id) as steps
    from step_keys k
    left join defined d on d.scenario_id = k.scenario_id and d.step_id = k.step_id
    left join sent_step ss on ss.scenario_id = k.scenario_id and ss.step_id = k.step_id
    left join refused rf on rf.scenario_id = k.scenario_id and rf.step_id = k.step_id
    left join decided dc on dc.scenario_id = k.scenario_id and dc.step_id = k.step_id
    left join review rv on rv.scenario_id = k.scenario_id and rv.step_id = k.step_id
    left join e_step es on es.scenario_id = k.scenario_id and es.step_id = k.step_id
    left join units_step us on us.scenario_id = k.scenario_id and us.step_id = k.step_id
    group by k.scenario_id),
  days as (
    select scenario_id, jsonb_agg(jsonb_build_object('day', to_char(day, 'YYYY-MM-DD'), 'sent', sent, 'conversions', conversions) order by day) as days
    from (
      select scenario_id, day, sum(sent)::bigint as sent, sum(conversions)::bigint as conversions from (
        select scenario_id, day, n as sent, 0 as conversions from sent
        union all
        select scenario_id, converted_day, 0, conversions from e where converted_day is not null) x
      group by 1, 2) y
    group by scenario_id),
  exits as (
    select scenario_id, jsonb_agg(jsonb_build_object('reason', exit_reason, 'count', n) order by n desc, exit_reason) as exits
    from (select scenario_id, exit_reason, sum(exited)::bigint as n from e where exit_reason is not null group by 1, 2) x
    group by scenario_id),
  totals as (
    select scenario_id, sum(entered)::bigint as entered, sum(goal_reached)::bigint as goal_reached, sum(waiting)::bigint as waiting,
           sum(finished)::bigint as finished, sum(exited)::bigint as exited, sum(conversions)::bigint as conversions
    from e group by scenario_id)
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', s.scenario_id,
           'name', s.definition->>'name',
           'timezone', s.tz,
           'status', coalesce(s.definition->>'status', 'active'),
           'goal', s.definition->'goal'->>'event',
           'entered', coalesce(tt.entered, 0),
           'goal_reached', coalesce(tt.goal_reached, 0),
           'waiting', coalesce(tt.waiting, 0),
           'finished', coalesce(tt.finished, 0),
           'exited', coalesce(tt.exited, 0),
           'conversions', coalesce(tt.conversions, 0),
           'exits', coalesce(x.exits, '[]'::jsonb),
           'steps', coalesce(st.steps, '[]'::jsonb),
           'days', coalesce(dy.days, '[]'::jsonb)) order by s.scenario_id), '[]'::jsonb)
    into result
  from scope s
  left join totals tt on tt.scenario_id = s.scenario_id
  left join exits x on x.scenario_id = s.scenario_id
  left join steps st on st.scenario_id = s.scenario_id
  left join days dy on dy.scenario_id = s.scenario_id;

  return jsonb_build_object('known', known, 'scenarios', result, 'next', case when more then ids[lim] end);
end $function$;
