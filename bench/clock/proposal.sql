-- A proposal for the dispatcher's decision, measured with npm run bench -- clock --sql
-- bench/clock/proposal.sql (applied after the migrations, in the benchmark's own database;
-- not a migration). Based on the newest definitions: lsd_dispatch_due of
-- 20261207000102_dispatcher_trigger_urgency.sql, lsd_dispatch_hold of
-- 20261207000101_dispatcher_sending_tick.sql. Three changes, marked (Proposal n) below:
--
-- 1. Ahead of the moment: a step is due for a start 30 s before its moment (the shortest a
--    dispatched run takes to reach its tick: 15 s to start, 15 s of setup), so the run meets
--    the moment instead of setting off after it; the tick still sends only what is due when
--    it claims (a run that came sooner than 30 s would find the step not yet due).
-- 2. A welcome by reply starts no run: a follow the webhook answered by reply (docs/reply.md)
--    and the enrollment standing at the replied step wait for the next run there is anyway
--    (the hourly safety net at worst); the enrollment's next step is due on its own after it.
-- 3. The budget as a straight line through the month, a day's share ahead, instead of a pace:
--    20261207000101 spaces every start by (month's end - now) / starts left, about 5.2 min
--    all month with a budget of 8,510 minutes, so at 10:00 and in the evening due steps wait
--    for the pace while the night's minutes go unused.

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
  -- A tick stopped by LINE (the monthly limit, a refused token) is not restarted for its
  -- outbox within the hour: a run a minute would be answered the same way.
  stopped_hold := coalesce(last_done.status like 'stopped:%' and last_done.finished_at > now_ts - interval '1 hour', false);
  work_left := coalesce(last_done.status = 'ok' and (coalesce((last_done.counts->>'deferred')::integer, 0) > 0
                 or coalesce((last_done.counts->>'heldBackByMaxMessages')::boolean, false)), false);

  -- (Proposal 2) An enrollment standing at a step that went as the reply to its follow waits
  -- for no run: any later tick moves it on, and its next step is due on its own.
  select min(e.due_at) into first_due from enrollments e where e.status = 'active' and e.due_at > since
    and not exists (select 1 from replies r where r.enrollment_id = e.id and r.step_id = e.step_id
                      and r.status in ('sending', 'sent', 'unknown'));
  -- (Proposal 1) Due for a start 30 s ahead of the moment: the shortest dispatch and setup.
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
  -- One index probe per type a scenario reads (a handful), never a scan of the new events.
  -- (Proposal 2) A follow whose user the webhook enrolled by reply since it happened starts no run.
  select array_agg(t order by t) into new_urgent from unnest(urgent_) t
    where exists (select 1 from events e where e.status = 'new' and e.type = t
                    and not (t = 'follow' and exists (
                      select 1 from replies r where r.line_user_id = e.line_user_id and r.status in ('sending', 'sent', 'unknown')
                        and r.created_at >= e.occurred_at)));
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

create or replace function lsd_dispatch_hold(s lsd_dispatcher_settings, now_ts timestamptz, urgent boolean) returns jsonb
language plpgsql stable set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  running runs;
  last_start lsd_dispatches;
  last_run_at timestamptz;
  last_at timestamptz;
  month_runs bigint;
  month_minutes bigint;
  per_run numeric;
  left_starts numeric;
  month_start timestamptz;
  month_end timestamptz;
  allowed numeric;
  until_ timestamptz;
begin
  select * into running from runs
  where finished_at is null and started_at > now_ts - interval '6 hours' and started_at <= now_ts
    and greatest(started_at, heartbeat_at) > now_ts - make_interval(secs => s.stale_tick_seconds)
  order by started_at desc limit 1;
  if found then
    return jsonb_build_object('reason', format('a tick is running (started %s)', to_char(running.started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')),
                              'until', null);
  end if;
  -- A tick sending past its runs row's staleness (a million pushes at LINE's limit, rate-limit
  -- waits): a batch in an attempt under a live lease (index outbox_attempting).
  if exists (select 1 from outbox_batches where status = 'pending' and attempt_started_at is not null and lease_until > now_ts) then
    return jsonb_build_object('reason', 'a tick is running (sending: an outbox batch is in an attempt under a live lease)', 'until', null);
  end if;

  select * into last_start from lsd_dispatches where decided_at <= now_ts order by decided_at desc limit 1;
  select max(started_at) into last_run_at from runs where started_at <= now_ts and started_at > now_ts - interval '31 days';
  if last_start.status in ('requested', 'started') and last_start.decided_at > now_ts - make_interval(secs => s.start_timeout_seconds)
     and (last_run_at is null or last_run_at < last_start.decided_at) then
    return jsonb_build_object('reason', 'a start was requested and its run has not begun yet',
                              'until', last_start.decided_at + make_interval(secs => s.start_timeout_seconds));
  end if;
  if last_start.status = 'refused' and coalesce(last_start.answered_at, last_start.decided_at) > now_ts - make_interval(secs => s.refusal_backoff_seconds) then
    return jsonb_build_object('reason', 'GitHub refused the last start: ' || coalesce(last_start.answer, 'no reason given'),
                              'until', coalesce(last_start.answered_at, last_start.decided_at) + make_interval(secs => s.refusal_backoff_seconds));
  end if;
  if last_start.status = 'rate_limited' and last_start.retry_at > now_ts then
    return jsonb_build_object('reason', 'GitHub''s rate limit: ' || coalesce(last_start.answer, 'wait'), 'until', last_start.retry_at);
  end if;

  last_at := greatest(last_run_at, case when last_start.status in ('requested', 'started') then last_start.decided_at end);
  if last_at > now_ts - make_interval(secs => s.min_gap_seconds) then
    return jsonb_build_object('reason', format('the minimum gap of %s s since the last start', s.min_gap_seconds),
                              'until', last_at + make_interval(secs => s.min_gap_seconds));
  end if;

  if s.budget_minutes is null or s.public_repository then
    return null;
  end if;
  select m.runs, m.minutes into month_runs, month_minutes from lsd_dispatch_month(now_ts, s.run_overhead_seconds) m;
  per_run := case when month_runs > 0 then greatest(1, month_minutes::numeric / month_runs) else 1 end;
  month_start := date_trunc('month', now_ts at time zone 'UTC') at time zone 'UTC';
  month_end := (date_trunc('month', now_ts at time zone 'UTC') + interval '1 month') at time zone 'UTC';
  if month_minutes + per_run > s.budget_minutes then
    return jsonb_build_object('reason', format('the monthly budget is spent (%s of %s billed minutes); the schedule still runs', month_minutes, s.budget_minutes),
                              'until', month_end);
  end if;
  -- (Proposal 3) The budget's straight line through the month, a day's share ahead for steps
  -- due (none for exits and goals alone): a day's busy hours draw on its quiet ones, instead
  -- of every start waiting the month's average gap (31 days over the starts left).
  allowed := s.budget_minutes * least(1, (extract(epoch from now_ts - month_start) + case when urgent then 86400 else 0 end)
                                         / extract(epoch from month_end - month_start));
  if month_minutes + per_run > allowed then
    until_ := month_start + (month_end - month_start) * ((month_minutes + per_run) / s.budget_minutes)
              - case when urgent then interval '1 day' else interval '0' end;
    return jsonb_build_object('reason', format('the monthly budget (%s of %s billed minutes used; %s by now)', month_minutes, s.budget_minutes, floor(allowed)),
                              'until', greatest(until_, now_ts + interval '1 minute'));
  end if;
  return null;
end $$;
