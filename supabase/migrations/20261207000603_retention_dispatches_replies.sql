-- line-step-delivery: retention of the dispatcher's records and of the welcomes by reply
-- (issue 22 item 3; the tables came in 20261207000100_dispatcher.sql and
-- 20261207000501_welcome_reply.sql). Redefines lsd_retention (20261207000600_retention.sql)
-- with two more kinds:
--   dispatches  starts the dispatcher decided before the cutoff, except the newest (the
--               next decision reads the last start). Index lsd_dispatches_decided.
--   replies     welcomes by reply recorded before the cutoff, except one still sending.
--               The step's delivery stays with its enrollment; a webhook is never
--               redelivered that late, so the row that made a redelivery reply once is no
--               longer needed. Index replies_recent.

create or replace function lsd_retention_dispatches(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  n integer;
  newest bigint;
begin
  select id into newest from lsd_dispatches order by decided_at desc limit 1;
  with gone as (
    delete from lsd_dispatches d where d.id in (
      select x.id from lsd_dispatches x where x.decided_at < cutoff and x.id <> newest
      order by x.decided_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $$;

create or replace function lsd_retention_replies(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  n integer;
begin
  with gone as (
    delete from replies r where r.event_key in (
      select x.event_key from replies x where x.created_at < cutoff and x.status <> 'sending'
      order by x.created_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $$;

-- One page of retention of one kind (p and the answer: see 20261207000600_retention.sql);
-- kind also dispatches or replies.
create or replace function lsd_retention(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  days integer := (p->>'retention_days')::integer;
  kind_ text := p->>'kind';
  lim integer := least(greatest(coalesce((p->>'limit')::integer, 2000), 1), 5000);
  cutoff timestamptz;
  result jsonb;
begin
  if days is null or days < 31 then
    raise exception 'lsd_retention: retention_days must be at least 31 (the 30-day report reads a month back), got %', coalesce(p->>'retention_days', 'nothing')
      using errcode = '22023';
  end if;
  if now_ts is null then
    raise exception 'lsd_retention: now (epoch milliseconds) is required' using errcode = '22023';
  end if;
  if not pg_try_advisory_xact_lock(hashtext('lsd_retention')) then
    return jsonb_build_object('kind', kind_, 'deleted', 0, 'examined', 0, 'more', false, 'busy', true);
  end if;
  cutoff := now_ts - make_interval(days => days);
  result := case kind_
    when 'events' then lsd_retention_events(now_ts, cutoff, lim)
    when 'batches' then lsd_retention_batches(now_ts, cutoff, lim)
    when 'enrollments' then lsd_retention_enrollments(now_ts, cutoff, lim)
    when 'runs' then lsd_retention_runs(now_ts, cutoff, lim)
    when 'dispatches' then lsd_retention_dispatches(now_ts, cutoff, lim)
    when 'replies' then lsd_retention_replies(now_ts, cutoff, lim)
  end;
  if result is null then
    raise exception 'lsd_retention: unknown kind %', coalesce(kind_, 'nothing') using errcode = '22023';
  end if;
  return result || jsonb_build_object('kind', kind_);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000603_retention_dispatches_replies.sql');
