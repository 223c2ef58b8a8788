-- One page of retention of one kind (p and the answer: see 20261207000600_retention.sql);
-- kind also dispatches or replies.
CREATE OR REPLACE FUNCTION public.lsd_retention(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
 SET jit TO 'off'
AS $function$
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
end $function$;
