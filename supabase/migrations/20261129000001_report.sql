-- line-step-delivery: what the team sees.
--
-- * lsd_report: per scenario and step, for a period: entered, waiting at each step now,
--   sent, expired, failed, exited (by reason, and at which step), goals reached, and sends
--   and conversions per day in the scenario's zone. Counts only: never a user id or a text.
-- * line_unit_statistics: LINE's statistics per aggregation unit and day (UTC+9), read back
--   from LINE's insight API by the report (lsd_unit_stats_due says what to fetch,
--   lsd_unit_stats_save stores it), shown as open and click rates beside "sent".
-- * lsd_inspect: one user's enrollments, deliveries, batches and events, for the CLI's
--   inspect command on the team's own machine (its answer holds user data: never call it
--   from the action, whose logs and summaries are public).
--
-- Where the report's counts come from (and the indexes that keep it O(the period)):
--   sent        outbox batches sent in the period (sent_at), their recipients counted;
--   failed      batches LINE refused in the period (updated_at), plus steps that failed
--               before sending (deliveries of kind fail, created_at);
--   expired     deliveries of kind expire decided in the period (created_at);
--   entered, exited, finished, goal reached, waiting now: one pass over the enrollments
--               of the scenarios asked for (a sequential scan: "waiting now" needs every
--               active enrollment anyway).
-- The new indexes are partial on columns that do not change after the row qualifies, so
-- the engine's hot updates (a delivery marked sent, an enrollment leased) stay HOT.

create index if not exists outbox_sent on outbox_batches (sent_at) where status = 'sent';
create index if not exists outbox_failed on outbox_batches (updated_at) where status = 'failed';
create index if not exists deliveries_decided on deliveries (created_at) where kind <> 'send';

create table if not exists line_unit_statistics (
  aggregation_unit text not null,
  day date not null,
  unique_impression bigint,
  unique_click bigint,
  impression bigint,
  click bigint,
  unique_media_played bigint,
  fetched_at timestamptz not null,
  primary key (aggregation_unit, day)
);
alter table line_unit_statistics enable row level security;
comment on table line_unit_statistics is 'LINE''s statistics per aggregation unit (one per scenario step) for the messages sent on one day (UTC+9, LINE''s days). Null: LINE hides counts under 20. Refreshed by the report until a few days after the day.';
comment on column line_unit_statistics.unique_impression is 'Users who opened the message (displayed at least one bubble).';
comment on column line_unit_statistics.unique_click is 'Users who opened any URL in the message.';

-- An exit reason as a category a report can group by. Reasons name events and step ids,
-- never user data, but "failed: ..." carries an error text: only its kind is kept.
create or replace function lsd_exit_category(reason text) returns text
language sql immutable as $$
  select case
    when reason is null then 'unknown'
    when reason = 'unfollowed' then 'unfollowed'
    when reason ~ '^(exit|goal): [a-z][a-z0-9_]*$' then reason
    when reason = 'restarted by a new trigger' then 'restarted by a new trigger'
    when reason like 'failed: %' or reason like 'step "%": %' then 'failed'
    when reason like 'step "%" was removed from the scenario' then 'step removed'
    when reason in ('the scenario was retired', 'the scenario was removed') then 'scenario retired'
    else 'other' end
$$;

-- The report for a period, a page of scenarios at a time.
--   p: from, to (epoch ms; from inclusive, to exclusive); scenario_id (optional: only that
--      one); after (a scenario id: the page after it); limit (scenarios a page, default 50).
--   returns: {known: [every scenario id], unknown_scenario: true when scenario_id is not
--      known, scenarios: [...], next: the id to pass as after, or null}.
create or replace function lsd_report(p jsonb) returns jsonb
language plpgsql stable set plan_cache_mode = force_custom_plan as $$
declare
  f timestamptz := lsd_ts(p->'from');
  t timestamptz := lsd_ts(p->'to');
  only_ text := nullif(p->>'scenario_id', '');
  lim integer := coalesce((p->>'limit')::integer, 50);
  known jsonb;
  ids text[];
  zones text[];
  tz text;
  more boolean;
  result jsonb;
begin
  if f is null or t is null or f >= t then
    raise exception 'lsd_report: from must be before to (epoch milliseconds)' using errcode = '22023';
  end if;
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

  with scope as materialized (
    select x.id as scenario_id, x.tz, v.definition
    from unnest(ids, zones) as x(id, tz)
    join scenarios sc on sc.scenario_id = x.id
    left join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash),
  defined as (
    select s.scenario_id, st.value->>'id' as step_id, st.value->>'type' as step_type, st.ord::integer as ord
    from scope s cross join lateral jsonb_array_elements(coalesce(s.definition->'steps', '[]'::jsonb)) with ordinality as st(value, ord)),
  -- One pass over the enrollments, grouped finely enough to roll up every figure below.
  e as (
    select e.scenario_id, e.step_id,
           case when e.status = 'exited' and e.ended_at >= f and e.ended_at < t then lsd_exit_category(e.exit_reason) end as exit_reason,
           case when e.converted_at >= f and e.converted_at < t then (e.converted_at at time zone s.tz)::date end as converted_day,
           count(*) filter (where e.entered_at >= f and e.entered_at < t) as entered,
           count(*) filter (where e.entered_at >= f and e.entered_at < t and e.converted_at is not null) as goal_reached,
           count(*) filter (where e.status = 'active') as waiting,
           count(*) filter (where e.status = 'finished' and e.ended_at >= f and e.ended_at < t) as finished,
           count(*) filter (where e.status = 'exited' and e.ended_at >= f and e.ended_at < t) as exited,
           count(*) filter (where e.converted_at >= f and e.converted_at < t) as conversions
    from enrollments e join scope s on s.scenario_id = e.scenario_id
    group by 1, 2, 3, 4),
  sent as (
    select b.scenario_id, b.step_id, b.aggregation_unit, (b.sent_at at time zone s.tz)::date as day,
           (b.sent_at at time zone 'Asia/Tokyo')::date as line_day, sum(cardinality(b.recipients))::bigint as n
    from outbox_batches b join scope s on s.scenario_id = b.scenario_id
    where b.status = 'sent' and b.sent_at >= f and b.sent_at < t
    group by 1, 2, 3, 4, 5),
  refused as (
    select b.scenario_id, b.step_id, sum(cardinality(b.recipients))::bigint as n
    from outbox_batches b
    where b.status = 'failed' and b.updated_at >= f and b.updated_at < t and b.scenario_id = any(ids)
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
end $$;

-- Which units and days to read back from LINE: the units sent on each UTC+9 day of the
-- period, not fetched yet, or fetched before the day was settle_days old and not in the
-- last refresh_hours (users open messages for days after they arrive).
--   p: from, to, now (epoch ms); limit (default 200); settle_days (3); refresh_hours (6).
--   returns: {due: [{unit, day: "yyyyMMdd"}], more: whether the limit cut the list}.
create or replace function lsd_unit_stats_due(p jsonb) returns jsonb
language plpgsql stable set plan_cache_mode = force_custom_plan as $$
declare
  f timestamptz := lsd_ts(p->'from');
  t timestamptz := lsd_ts(p->'to');
  now_ts timestamptz := lsd_ts(p->'now');
  lim integer := coalesce((p->>'limit')::integer, 200);
  settle interval := make_interval(days => coalesce((p->>'settle_days')::integer, 3));
  refresh interval := make_interval(hours => coalesce((p->>'refresh_hours')::integer, 6));
  due jsonb;
  n integer;
begin
  with sent_days as (
    select distinct b.aggregation_unit as unit, (b.sent_at at time zone 'Asia/Tokyo')::date as day
    from outbox_batches b
    where b.status = 'sent' and b.sent_at >= f and b.sent_at < t and b.aggregation_unit is not null),
  wanted as (
    select s.unit, s.day, st.fetched_at
    from sent_days s left join line_unit_statistics st on st.aggregation_unit = s.unit and st.day = s.day
    where st.fetched_at is null
       or (st.fetched_at < ((s.day + 1)::timestamp at time zone 'Asia/Tokyo') + settle and st.fetched_at < now_ts - refresh)
    order by st.fetched_at nulls first, s.day desc, s.unit
    limit lim + 1)
  select coalesce(jsonb_agg(jsonb_build_object('unit', unit, 'day', to_char(day, 'YYYYMMDD'))), '[]'::jsonb), count(*)
    into due, n from wanted;
  if n > lim then due := due - lim; end if;
  return jsonb_build_object('due', due, 'more', n > lim);
end $$;

-- Stores what LINE answered for units and days.
--   p: now (epoch ms); rows: [{unit, day: "yyyyMMdd", unique_impression, unique_click,
--      impression, click, unique_media_played}] (null: LINE hides counts under 20).
create or replace function lsd_unit_stats_save(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  n integer;
begin
  insert into line_unit_statistics (aggregation_unit, day, unique_impression, unique_click, impression, click, unique_media_played, fetched_at)
  select x.unit, to_date(x.day, 'YYYYMMDD'), x.unique_impression, x.unique_click, x.impression, x.click, x.unique_media_played, lsd_ts(p->'now')
  from jsonb_to_recordset(coalesce(p->'rows', '[]'::jsonb))
    as x(unit text, day text, unique_impression bigint, unique_click bigint, impression bigint, click bigint, unique_media_played bigint)
  where x.unit ~ '^[A-Za-z0-9_]{1,30}$' and x.day ~ '^[0-9]{8}$'
  on conflict (aggregation_unit, day) do update set
    unique_impression = excluded.unique_impression, unique_click = excluded.unique_click, impression = excluded.impression,
    click = excluded.click, unique_media_played = excluded.unique_media_played, fetched_at = excluded.fetched_at;
  get diagnostics n = row_count;
  return jsonb_build_object('saved', n);
end $$;

-- One user's story, for the CLI's inspect command (local only: this answer holds the
-- user's ids, attributes and events).
--   p: user: a LINE user id (U + 32 hex digits) or the shop's member id; events_limit
--      (default 200, newest first).
--   returns: {found: false, waiting_link: events waiting for this member id} or {found:
--      true, user, enrollments, deliveries (with their batch), events, events_total}.
create or replace function lsd_inspect(p jsonb) returns jsonb
language plpgsql stable set plan_cache_mode = force_custom_plan as $$
declare
  who text := btrim(coalesce(p->>'user', ''));
  lim integer := coalesce((p->>'events_limit')::integer, 200);
  uid text;
  u line_users;
begin
  if who ~ '^U[0-9a-f]{32}$' then
    uid := who;
  else
    select line_user_id into uid from line_users where member_id = who;
  end if;
  select * into u from line_users where line_user_id = uid;
  if uid is null or (u.line_user_id is null and not exists (select 1 from enrollments where line_user_id = uid)
                     and not exists (select 1 from events where line_user_id = uid)) then
    return jsonb_build_object('found', false,
      'waiting_link', (select count(*) from events where status = 'waiting_link' and member_id = who));
  end if;
  return jsonb_build_object(
    'found', true,
    'user', jsonb_build_object('line_user_id', uid, 'member_id', u.member_id, 'following', u.following,
              'followed_at', lsd_ms(u.followed_at), 'unfollowed_at', lsd_ms(u.unfollowed_at), 'follow_route', u.follow_route,
              'attributes', coalesce(u.attributes, '{}'::jsonb), 'answers', coalesce(u.answers, '{}'::jsonb)),
    'enrollments', coalesce((
      select jsonb_agg(jsonb_build_object('id', e.id, 'scenario_id', e.scenario_id, 'status', e.status, 'step_id', e.step_id,
               'entered_at', lsd_ms(e.entered_at), 'previous_at', lsd_ms(e.previous_at), 'due_at', lsd_ms(e.due_at),
               'due_never', e.due_at = 'infinity'::timestamptz, 'waiting_for', e.waiting_for,
               'wait_started_at', lsd_ms(e.wait_started_at), 'converted_at', lsd_ms(e.converted_at), 'exit_reason', e.exit_reason,
               'ended_at', lsd_ms(e.ended_at), 'trigger_event_id', e.trigger_event_id::text, 'scenario_hash', e.scenario_hash)
             order by e.entered_at, e.created_at)
      from enrollments e where e.line_user_id = uid), '[]'::jsonb),
    'deliveries', coalesce((
      select jsonb_agg(jsonb_build_object('enrollment_id', d.enrollment_id, 'scenario_id', d.scenario_id, 'step_id', d.step_id,
               'kind', d.kind, 'status', d.status, 'reason', d.reason, 'due_at', lsd_ms(d.due_at), 'created_at', lsd_ms(d.created_at),
               'sent_at', lsd_ms(d.sent_at), 'batch_id', d.batch_id,
               'batch', case when b.id is null then null else jsonb_build_object('kind', b.kind, 'status', b.status, 'attempts', b.attempts,
                          'recipients', cardinality(b.recipients), 'line_request_id', b.line_request_id, 'error', b.error,
                          'aggregation_unit', b.aggregation_unit, 'sent_at', lsd_ms(b.sent_at)) end)
             order by d.due_at, d.id)
      from deliveries d left join outbox_batches b on b.id = d.batch_id
      where d.line_user_id = uid), '[]'::jsonb),
    'events', coalesce((
      select jsonb_agg(jsonb_build_object('id', ev.id::text, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at),
               'status', ev.status, 'status_reason', ev.status_reason, 'source', ev.source, 'properties', ev.properties)
             order by ev.occurred_at, ev.id)
      from (select * from events where line_user_id = uid or (u.member_id is not null and member_id = u.member_id and line_user_id is null)
            order by occurred_at desc, id desc limit lim) ev), '[]'::jsonb),
    'events_total', (select count(*) from events where line_user_id = uid));
end $$;

select lsd_secure_functions();
select lsd_secure_tables(array['line_unit_statistics']);
select lsd_migration_applied('20261129000001_report.sql');
