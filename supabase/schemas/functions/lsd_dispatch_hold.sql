-- Why not start now, and from when a start would be allowed; null: nothing holds it back.
-- s: the settings; urgent: due steps (spaced by the budget's pace) or only exits and goals
-- (twice the pace).
CREATE OR REPLACE FUNCTION public.lsd_dispatch_hold(s lsd_dispatcher_settings, now_ts timestamp with time zone, urgent boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  running runs;
  last_start lsd_dispatches;
  last_run_at timestamptz;
  last_at timestamptz;
  month_runs bigint;
  month_minutes bigint;
  per_run numeric;
  left_starts numeric;
  pace interval;
  month_end timestamptz;
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
  left_starts := floor((s.budget_minutes - month_minutes) / per_run);
  month_end := (date_trunc('month', now_ts at time zone 'UTC') + interval '1 month') at time zone 'UTC';
  if left_starts < 1 then
    return jsonb_build_object('reason', format('the monthly budget is spent (%s of %s billed minutes); the schedule still runs', month_minutes, s.budget_minutes),
                              'until', month_end);
  end if;
  -- The month's remaining minutes spread over the starts left; steps due go at that pace,
  -- exits and goals alone at half of it.
  pace := (month_end - now_ts) / left_starts * case when urgent then 1 else 2 end;
  if last_at is not null and last_at + pace > now_ts then
    return jsonb_build_object('reason', format('the monthly budget (%s of %s billed minutes used): one start every %s s', month_minutes, s.budget_minutes,
                                               round(extract(epoch from pace))),
                              'until', last_at + pace);
  end if;
  return null;
end $function$;
