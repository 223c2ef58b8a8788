-- A proposal for the dispatcher's decision, measured with npm run bench -- clock --sql
-- bench/clock/proposal.sql (applied after the migrations, in the benchmark's database only;
-- not a migration). It redefines lsd_dispatch_due of 20261207000100_dispatcher.sql, its
-- newest definition, in two places:
--
-- 1. Ahead of the moment: a step is due for a start 30 s before its moment (the shortest a
--    dispatched run takes to reach its tick: 15 s to start, 15 s of setup), so the run meets
--    the moment instead of setting off after it; a run never arrives early in that model, and
--    the tick still sends only what is due when it claims.
-- 2. An event waits for its step: an event a scenario is triggered by, whose first step waits
--    (a cart's reminder an hour after, a purchase's thank-you ten minutes after), needs a run
--    only when that wait is nearly over (occurred_at + the shortest such wait - 30 s); and a
--    follow already answered by reply (its enrollment written by the webhook, docs/reply.md)
--    needs none, nor does that enrollment while it stands at the replied step: its next step
--    is due on its own once a tick (any, later) moves it on. Events that a step waits for, or
--    that a condition reads, stay due at once.
create or replace function lsd_dispatch_event_delays() returns table (type text, delay interval)
language sql stable as $$
  with defs as (
    select v.definition as d
    from scenarios s join scenario_versions v on v.scenario_id = s.scenario_id and v.hash = s.current_hash
    where s.retired_at is null and coalesce(v.definition->>'status', 'active') = 'active'),
  triggered as (
    select case d->'entry'->'trigger'->>'type'
             when 'event' then d->'entry'->'trigger'->>'event'
             when 'follow' then 'follow'
             when 'list' then 'list_added'
             when 'audience' then 'profile_updated' end as type,
           d->'steps'->0 as first
    from defs)
  select type,
         min(case when first->'wait'->'after' is not null and first->'wait'->'at' is null
                  then make_interval(days => coalesce((first->'wait'->'after'->>'days')::integer, 0),
                                     hours => coalesce((first->'wait'->'after'->>'hours')::integer, 0),
                                     mins => coalesce((first->'wait'->'after'->>'minutes')::integer, 0))
                  else interval '0' end)
  from triggered where type is not null group by type
$$;

create or replace function lsd_dispatch_due(now_ts timestamptz) returns jsonb
language plpgsql stable set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  lead_ interval := interval '30 seconds';
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
  stopped_hold := coalesce(last_done.status like 'stopped:%' and last_done.finished_at > now_ts - interval '1 hour', false);
  work_left := coalesce(last_done.status = 'ok' and (coalesce((last_done.counts->>'deferred')::integer, 0) > 0
                 or coalesce((last_done.counts->>'heldBackByMaxMessages')::boolean, false)), false);

  -- An enrollment whose due step went as the reply to its follow waits for no run: the next
  -- tick moves it on, and its next step is due on its own.
  select min(e.due_at) into first_due from enrollments e where e.status = 'active' and e.due_at > since
    and not exists (select 1 from replies r where r.enrollment_id = e.id and r.step_id = e.step_id
                      and r.status in ('sending', 'sent', 'unknown'));
  if first_due <= now_ts + lead_ then
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
  -- An urgent type's new events, each once its trigger's first wait is nearly over; a
  -- follow whose user the webhook enrolled by reply since it happened counts for nothing.
  select array_agg(t order by t) into new_urgent from unnest(urgent_) t
    left join lsd_dispatch_event_delays() w on w.type = t
    where exists (select 1 from events e where e.status = 'new' and e.type = t
                    and e.occurred_at <= now_ts + lead_ - coalesce(w.delay, interval '0')
                    and not (t = 'follow' and exists (
                      select 1 from enrollments n where n.line_user_id = e.line_user_id and n.entered_at >= e.occurred_at)));
  select array_agg(t order by t) into new_other from unnest(other_) t
    where exists (select 1 from events e where e.status = 'new' and e.type = t);
  if new_urgent is not null then
    reasons := reasons || to_jsonb('events: ' || array_to_string(new_urgent, ', '));
    urgent_due := true;
  end if;
  if new_other is not null then
    reasons := reasons || to_jsonb('events: ' || array_to_string(new_other, ', ') || ' (exits and goals)');
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
