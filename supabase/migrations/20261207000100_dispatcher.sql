-- line-step-delivery: the dispatcher (issue 28). A pg_cron job calls lsd_dispatch_decide
-- every minute (and the webhooks call it when an event arrives); when it answers start, the
-- caller asks GitHub for a run (workflow dispatch) and records GitHub's answer with
-- lsd_dispatch_answer. The hourly schedule stays as the safety net.
--
-- What makes a start (reasons, in the answer and the record):
--   enrollments due      an active enrollment fell due since the last finished tick began
--   outbox due           a pending batch written since then and not leased, or an uncertain
--                        one whose lease ran out (its retry is due)
--   events: <types>      events not yet taken in of a type a scenario in force reads
--                        (trigger, waits and conditions of its steps, exits, goal)
--   work left            the last tick ended with work it could not do (deferred sends, or
--                        counts.heldBackByMaxMessages)
-- What holds it back (wait_reason): not set up or switched off; a tick running (a runs row
-- not finished whose heartbeat, or start, is recent); a start requested and its run not yet
-- begun; the minimum gap; GitHub's last refusal or rate limit; the monthly budget.
--
-- Things due before the last finished tick began and still there are ones that tick could
-- not take (a scenario whose file is missing holds its users): they start no run of their
-- own, so a held backlog never starts a run a minute. Every query below is an index scan
-- (enable_seqscan off, as for the claims: statistics lag a burst); the scans of scenarios
-- read one row per scenario file.

alter table runs add column if not exists heartbeat_at timestamptz;
comment on column runs.heartbeat_at is 'Renewed while a tick runs (lsd_run_heartbeat): the dispatcher starts no run while a tick''s heartbeat is recent.';
-- The ticks not finished: running, or crashed (bounded: a GitHub job lasts at most 6 hours).
create index if not exists runs_open on runs (started_at) where finished_at is null;
-- New events by type: does an event a scenario reads wait to be taken in?
create index if not exists events_new_type on events (type, id) where status = 'new';

create table if not exists lsd_dispatcher_settings (
  id boolean primary key default true,
  owner text not null,
  repo text not null,
  workflow text not null,
  ref text not null default 'main',
  inputs jsonb not null default '{"run-mode": "send"}'::jsonb,
  min_gap_seconds integer not null default 120,
  budget_minutes integer,
  public_repository boolean not null default false,
  enabled boolean not null default true,
  stale_tick_seconds integer not null default 900,
  start_timeout_seconds integer not null default 600,
  run_overhead_seconds integer not null default 30,
  refusal_backoff_seconds integer not null default 900,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_decided_at timestamptz,
  last_wait_reason text,
  constraint lsd_dispatcher_settings_one_row check (id),
  constraint lsd_dispatcher_settings_inputs check (jsonb_typeof(inputs) = 'object')
);
comment on table lsd_dispatcher_settings is 'The dispatcher''s one row of settings (lsd_dispatcher_setup). The GitHub token is never here: it is the dispatch function''s secret.';
comment on column lsd_dispatcher_settings.budget_minutes is 'Billed Actions minutes a month the dispatcher spaces its starts to stay within; null: no budget. Ignored for a public repository (minutes are free).';
comment on column lsd_dispatcher_settings.last_decided_at is 'The last time lsd_dispatch_decide ran with record: an old value means the pg_cron job is not running.';

create table if not exists lsd_dispatches (
  id bigint generated always as identity primary key,
  decided_at timestamptz not null,
  origin text not null default 'cron',
  reasons jsonb not null default '[]'::jsonb,
  status text not null default 'requested',
  http_status integer,
  answer text,
  retry_at timestamptz,
  answered_at timestamptz,
  constraint lsd_dispatches_status check (status in ('requested', 'started', 'refused', 'rate_limited', 'failed'))
);
comment on table lsd_dispatches is 'Each start the dispatcher decided: when, why, and GitHub''s answer (started: 204; refused: 401/403/404/422, answer says what to fix; rate_limited: retry_at; failed: no answer or 5xx).';
create index if not exists lsd_dispatches_decided on lsd_dispatches (decided_at desc);

alter table lsd_dispatcher_settings enable row level security;
alter table lsd_dispatches enable row level security;

-- An instant given as epoch milliseconds or an ISO string; null when absent.
create or replace function lsd_dispatch_instant(v jsonb) returns timestamptz
language sql immutable as $$
  select case when v is null or jsonb_typeof(v) = 'null' then null
              when jsonb_typeof(v) = 'number' then lsd_ts(v)
              else (v #>> '{}')::timestamptz end
$$;

-- The event types the scenarios in force read, and whether each can make a step due at once
-- (urgent: a trigger, or a wait or condition of a step) or only ends or scores an
-- enrollment (an exit, the goal), which the outbox's exit check applies anyway.
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
             when 'audience' then 'profile_updated' end as type, true as urgent
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

-- Billed Actions minutes of the month holding now_ts: each runs row is a job, billed in whole
-- minutes, with the job's own start (checkout, setup) estimated as overhead seconds.
create or replace function lsd_dispatch_month(now_ts timestamptz, overhead integer) returns table (runs bigint, minutes bigint)
language sql stable as $$
  select count(*), coalesce(sum(ceil((extract(epoch from coalesce(finished_at, greatest(heartbeat_at, started_at)) - started_at) + overhead) / 60.0)), 0)::bigint
  from runs
  where started_at >= date_trunc('month', now_ts at time zone 'UTC') at time zone 'UTC' and started_at <= now_ts
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

-- Why not start now, and from when a start would be allowed; null: nothing holds it back.
-- s: the settings; urgent: due steps (spaced by the budget's pace) or only exits and goals
-- (twice the pace).
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
end $$;

-- The decision. p: {now?: ms|ISO (default now()), record?: boolean (default true), origin?: text}.
-- Answers {start, reasons, next_due_at, wait_reason, not_before, dispatch_id?, request?}: with
-- record, a start is written to lsd_dispatches (dispatch_id; the caller records GitHub's
-- answer with lsd_dispatch_answer) and request carries what to send GitHub. Deciders are
-- serialized, so two callers at once (the cron job and a webhook) start one run.
create or replace function lsd_dispatch_decide(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  now_ts timestamptz := coalesce(lsd_dispatch_instant(p->'now'), now());
  record_ boolean := coalesce((p->>'record')::boolean, true);
  s lsd_dispatcher_settings;
  due jsonb;
  hold jsonb;
  wait_ text;
  id_ bigint;
  next_due timestamptz;
begin
  if record_ then
    perform pg_advisory_xact_lock(hashtext('lsd_dispatch_decide'));
  end if;
  select * into s from lsd_dispatcher_settings where id;
  due := lsd_dispatch_due(now_ts);
  next_due := case when jsonb_array_length(due->'reasons') > 0 then least(now_ts, (due->>'first_due')::timestamptz)
                   else (due->>'first_due')::timestamptz end;
  if s.id is null then
    wait_ := 'the dispatcher is not set up: run lsd_dispatcher_setup (or line-step-delivery dispatcher setup)';
  elsif not s.enabled then
    wait_ := 'the dispatcher is switched off (lsd_dispatcher_setup with enabled true switches it on)';
  elsif jsonb_array_length(due->'reasons') = 0 then
    wait_ := 'nothing is due';
  else
    hold := lsd_dispatch_hold(s, now_ts, (due->>'urgent')::boolean);
    wait_ := hold->>'reason';
  end if;

  if record_ and s.id is not null then
    update lsd_dispatcher_settings set last_decided_at = now_ts, last_wait_reason = wait_ where id;
    if wait_ is null then
      insert into lsd_dispatches (decided_at, origin, reasons) values (now_ts, coalesce(p->>'origin', 'cron'), due->'reasons')
      returning id into id_;
    end if;
  end if;

  return jsonb_build_object(
    'start', wait_ is null,
    'reasons', due->'reasons',
    'next_due_at', lsd_ms(next_due),
    'wait_reason', wait_,
    'not_before', lsd_ms((hold->>'until')::timestamptz),
    'dispatch_id', id_,
    'request', case when wait_ is null then jsonb_build_object('owner', s.owner, 'repo', s.repo, 'workflow', s.workflow, 'ref', s.ref, 'inputs', s.inputs) end);
end $$;

-- GitHub's answer to a start. p: {id, outcome: started|refused|rate_limited|failed,
-- http_status?, answer? (what a person can act on), retry_at? (ms), now?}.
create or replace function lsd_dispatch_answer(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare n integer;
begin
  update lsd_dispatches set status = p->>'outcome', http_status = (p->>'http_status')::integer, answer = left(p->>'answer', 500),
    retry_at = lsd_dispatch_instant(p->'retry_at'), answered_at = coalesce(lsd_dispatch_instant(p->'now'), now())
  where id = (p->>'id')::bigint;
  get diagnostics n = row_count;
  return jsonb_build_object('recorded', n);
end $$;

-- The tick's heartbeat: renewed while it runs, so the dispatcher starts no run beside it.
create or replace function lsd_run_heartbeat(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
begin
  update runs set heartbeat_at = coalesce(lsd_dispatch_instant(p->'now'), now()) where id = (p->>'id')::uuid and finished_at is null;
  return '{}'::jsonb;
end $$;

-- Sets the dispatcher up, or changes some of its settings (the others are kept). p: {owner,
-- repo, workflow, ref?, inputs?, min_gap_seconds?, budget_minutes? (null: none),
-- public_repository?, enabled?, now?}. Answers the settings.
create or replace function lsd_dispatcher_setup(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  s lsd_dispatcher_settings;
  now_ts timestamptz := coalesce(lsd_dispatch_instant(p->'now'), now());
begin
  select * into s from lsd_dispatcher_settings where id;
  s.id := true;
  s.owner := coalesce(p->>'owner', s.owner);
  s.repo := coalesce(p->>'repo', s.repo);
  s.workflow := coalesce(p->>'workflow', s.workflow);
  s.ref := coalesce(p->>'ref', s.ref, 'main');
  s.inputs := coalesce(p->'inputs', s.inputs, '{"run-mode": "send"}'::jsonb);
  s.min_gap_seconds := coalesce((p->>'min_gap_seconds')::integer, s.min_gap_seconds, 120);
  s.budget_minutes := case when p ? 'budget_minutes' then (p->>'budget_minutes')::integer else s.budget_minutes end;
  s.public_repository := coalesce((p->>'public_repository')::boolean, s.public_repository, false);
  s.enabled := coalesce((p->>'enabled')::boolean, s.enabled, true);
  if s.owner is null or s.owner !~ '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$' then
    raise exception 'dispatcher setup: owner "%" is not a GitHub user or organization name: give owner, e.g. {"owner": "my-shop"}', coalesce(s.owner, '');
  end if;
  if s.repo is null or s.repo !~ '^[A-Za-z0-9._-]{1,100}$' then
    raise exception 'dispatcher setup: repo "%" is not a repository name: give repo, e.g. {"repo": "line-scenarios"}', coalesce(s.repo, '');
  end if;
  if s.workflow is null or s.workflow !~ '^([A-Za-z0-9._-]+\.ya?ml|[0-9]+)$' then
    raise exception 'dispatcher setup: workflow "%" is not a workflow file name: give its file name under .github/workflows, e.g. {"workflow": "step-delivery.yml"}', coalesce(s.workflow, '');
  end if;
  if s.ref = '' or jsonb_typeof(s.inputs) <> 'object' then
    raise exception 'dispatcher setup: ref must be a branch or tag (e.g. "main") and inputs a JSON object of the workflow''s inputs';
  end if;
  if s.min_gap_seconds < 60 then
    raise exception 'dispatcher setup: min_gap_seconds % is under 60: the cron job decides once a minute', s.min_gap_seconds;
  end if;
  if s.budget_minutes < 0 then
    raise exception 'dispatcher setup: budget_minutes % is negative: give the billed Actions minutes a month, or null for no budget', s.budget_minutes;
  end if;
  insert into lsd_dispatcher_settings (id, owner, repo, workflow, ref, inputs, min_gap_seconds, budget_minutes, public_repository, enabled, created_at, updated_at)
  values (true, s.owner, s.repo, s.workflow, s.ref, s.inputs, s.min_gap_seconds, s.budget_minutes, s.public_repository, s.enabled, now_ts, now_ts)
  on conflict (id) do update set owner = excluded.owner, repo = excluded.repo, workflow = excluded.workflow, ref = excluded.ref,
    inputs = excluded.inputs, min_gap_seconds = excluded.min_gap_seconds, budget_minutes = excluded.budget_minutes,
    public_repository = excluded.public_repository, enabled = excluded.enabled, updated_at = excluded.updated_at;
  return (select to_jsonb(x) - 'id' from lsd_dispatcher_settings x where id);
end $$;

-- What `dispatcher status`, the job summary and the alert issue show. p: {now?, limit?}.
-- Answers {settings|null, last_starts: [...], month: {runs, billed_minutes, budget_minutes},
-- safety_net: {runs, acted} (scheduled runs this month since setup, and those that found work)}.
create or replace function lsd_dispatcher_status(p jsonb) returns jsonb
language plpgsql stable set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  now_ts timestamptz := coalesce(lsd_dispatch_instant(p->'now'), now());
  s lsd_dispatcher_settings;
  month_runs bigint;
  month_minutes bigint;
begin
  select * into s from lsd_dispatcher_settings where id;
  select m.runs, m.minutes into month_runs, month_minutes from lsd_dispatch_month(now_ts, coalesce(s.run_overhead_seconds, 30)) m;
  return jsonb_build_object(
    'now', lsd_ms(now_ts),
    'settings', case when s.id is not null then jsonb_build_object(
      'owner', s.owner, 'repo', s.repo, 'workflow', s.workflow, 'ref', s.ref, 'inputs', s.inputs,
      'min_gap_seconds', s.min_gap_seconds, 'budget_minutes', s.budget_minutes, 'public_repository', s.public_repository,
      'enabled', s.enabled, 'created_at', lsd_ms(s.created_at), 'last_decided_at', lsd_ms(s.last_decided_at),
      'last_wait_reason', s.last_wait_reason) end,
    'last_starts', coalesce((
      select jsonb_agg(jsonb_build_object('id', d.id, 'decided_at', lsd_ms(d.decided_at), 'origin', d.origin, 'reasons', d.reasons,
               'status', d.status, 'http_status', d.http_status, 'answer', d.answer, 'retry_at', lsd_ms(d.retry_at),
               'answered_at', lsd_ms(d.answered_at)) order by d.decided_at desc)
      from (select * from lsd_dispatches where decided_at <= now_ts order by decided_at desc
            limit coalesce((p->>'limit')::integer, 10)) d), '[]'::jsonb),
    'month', jsonb_build_object('runs', month_runs, 'billed_minutes', month_minutes,
      'budget_minutes', case when s.public_repository then null else s.budget_minutes end),
    'safety_net', (
      select jsonb_build_object('runs', count(*),
               'acted', count(*) filter (where coalesce((r.counts->>'recipientsPlanned')::integer, 0) > 0
                                            or coalesce((r.counts->'events'->>'taken')::integer, 0) > 0))
      from runs r
      where s.id is not null and r.trigger = 'schedule'
        and r.started_at >= greatest(s.created_at, date_trunc('month', now_ts at time zone 'UTC') at time zone 'UTC')
        and r.started_at <= now_ts));
end $$;

select lsd_secure_functions();
select lsd_secure_tables(array['lsd_dispatcher_settings', 'lsd_dispatches']);
select lsd_migration_applied('20261207000100_dispatcher.sql');
