-- line-step-delivery: an event that starts a scenario whose first step waits (a cart
-- reminder an hour later) is not urgent (issue 28: due steps before anything else).
-- 20261207000100 counted every trigger event as urgent, so under a budget a burst of
-- abandoned carts spent starts at the budget's pace only to enroll users whose first step is
-- an hour away. Now a trigger type is urgent when some scenario in force that it starts has
-- a first step due within 15 minutes of entry (no wait, or a wait of less than 15 minutes
-- from entry without a time of day), or one timed from a date the event carries (it may be
-- due at once). The others still start a run (no budget: at the minimum gap; with one: at
-- half the budget's pace), so their first step's enrollment exists well before it falls due,
-- and then "enrollments due" starts the run that sends it.
--
-- Redefines lsd_dispatch_event_types and lsd_dispatch_due (whose reason for such events now
-- reads "(no step due at once)", not "(exits and goals)"); their newest definitions:
-- 20261207000100_dispatcher.sql.

-- Whether a scenario's first step may fall due within 15 minutes of entry.
create or replace function lsd_dispatch_first_step_soon(d jsonb) returns boolean
language sql immutable as $$
  select w is null or jsonb_typeof(w) <> 'object'
      or coalesce(w->>'from', 'previous') not in ('previous', 'entry')
      or (w ? 'at' and coalesce((w->'after'->>'days')::integer, 0) < 1)
      or coalesce((w->'after'->>'days')::integer, 0) * 86400 + coalesce((w->'after'->>'hours')::integer, 0) * 3600
         + coalesce((w->'after'->>'minutes')::integer, 0) * 60 < 900
  from (select d->'steps'->0->'wait' as w) x
$$;

-- The event types the scenarios in force read, and whether each can make a step due at once
-- (urgent: a trigger whose scenario's first step comes within 15 minutes, or a wait or
-- condition of a step) or only starts a later step, ends or scores an enrollment.
create or replace function lsd_dispatch_event_types() returns table (type text, urgent boolean)
language sql stable as $$
  with defs as (
    select v.definition as d
    from scenarios s join scenario_versions v on v.scenario_id = s.scenario_id and v.hash = s.current_hash
    where s.retired_at is null and coalesce(v.definition->>'status', 'active') = 'active'),
  named as (
    select case d->'entry'->'trigger'->>'type'
             when 'event' then d->'entry'->'trigger'->>'event'
             when 'follow' then 'follow'
             when 'list' then 'list_added'
             when 'audience' then 'profile_updated' end as type, lsd_dispatch_first_step_soon(d) as urgent
    from defs
    union all
    select x #>> '{}', true from defs, jsonb_path_query(d, 'lax $.steps.**.event ? (@.type() == "string")') x
    union all
    select x #>> '{}', true from defs, jsonb_path_query(d, 'lax $.entry.audience.**.event ? (@.type() == "string")') x
    union all
    select x #>> '{}', false from defs, jsonb_path_query(d, 'lax $.exit.**.event ? (@.type() == "string")') x
    union all
    select x #>> '{}', false from defs, jsonb_path_query(d, 'lax $.goal.**.event ? (@.type() == "string")') x)
  select type, bool_or(urgent) from named where type is not null group by type
$$;

-- What is due now: the reasons (urgent ones first) and the earliest due moment.
create or replace function lsd_dispatch_due(now_ts timestamptz) returns jsonb
language plpgsql stable set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  last_done runs;
  since timestamptz;
  first_due timestamptz;
  urgent_ text[];
  other_ text[];
  new_urgent text[];
  new_other text[];
  reasons jsonb := '[]'::jsonb;
  urgent_due boolean := false;
  stopped_hold boolean;
  work_left boolean;
begin
  select * into last_done from runs where finished_at is not null and started_at <= now_ts order by started_at desc limit 1;
  since := coalesce(last_done.started_at, '-infinity'::timestamptz);
  -- A tick stopped by LINE (the monthly limit, a refused token) is not restarted for its
  -- outbox within the hour: a run a minute would be answered the same way.
  stopped_hold := coalesce(last_done.status like 'stopped:%' and last_done.finished_at > now_ts - interval '1 hour', false);
  work_left := coalesce(last_done.status = 'ok' and (coalesce((last_done.counts->>'deferred')::integer, 0) > 0
                 or coalesce((last_done.counts->>'heldBackByMaxMessages')::boolean, false)), false);

  select min(due_at) into first_due from enrollments where status = 'active' and due_at > since;
  if first_due <= now_ts then
    reasons := reasons || '"enrollments due"'::jsonb;
    urgent_due := true;
  end if;
  if not stopped_hold and (
       exists (select 1 from outbox_batches where status = 'pending' and created_at > since and created_at <= now_ts
                 and (lease_until is null or lease_until < now_ts))
    or exists (select 1 from outbox_batches where status = 'pending' and uncertain_since is not null
                 and lease_until < now_ts)) then
    reasons := reasons || '"outbox due"'::jsonb;
    urgent_due := true;
  end if;

  select array_agg(t.type) filter (where t.urgent), array_agg(t.type) filter (where not t.urgent)
    into urgent_, other_ from lsd_dispatch_event_types() t;
  -- One index probe per type a scenario reads (a handful), never a scan of the new events.
  select array_agg(t order by t) into new_urgent from unnest(urgent_) t
    where exists (select 1 from events e where e.status = 'new' and e.type = t);
  select array_agg(t order by t) into new_other from unnest(other_) t
    where exists (select 1 from events e where e.status = 'new' and e.type = t);
  if new_urgent is not null then
    reasons := reasons || to_jsonb('events: ' || array_to_string(new_urgent, ', '));
    urgent_due := true;
  end if;
  if new_other is not null then
    reasons := reasons || to_jsonb('events: ' || array_to_string(new_other, ', ') || ' (no step due at once)');
  end if;
  if work_left and not stopped_hold then
    reasons := reasons || '"work left by the last tick"'::jsonb;
  end if;

  return jsonb_build_object(
    'reasons', reasons,
    'urgent', urgent_due,
    'first_due', case when first_due = 'infinity'::timestamptz then null else first_due end,
    'last_finished_started_at', last_done.started_at);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000102_dispatcher_trigger_urgency.sql');
