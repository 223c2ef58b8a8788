-- line-step-delivery: the dispatcher's decision reads the time after it holds the lock.
--
-- lsd_dispatch_decide took its moment (now(), the transaction's start) before waiting for the
-- advisory lock that serializes deciders. A decider that began before another's start was
-- recorded, and got the lock after it, saw that start as in its future (decided_at > its
-- moment), missed it, and started a second run: a burst of webhooks could start two or three
-- runs where one was meant (test/dispatcher/ticks.test.ts, under a loaded machine). Now a
-- decision without an explicit moment reads the clock once it holds the lock. Redefines
-- lsd_dispatch_decide (newest in 20261207000100); nothing else changes.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_decide(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz;
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
  -- After the lock: a start recorded by the decider before this one is in this one's past.
  now_ts := coalesce(lsd_dispatch_instant(p->'now'), clock_timestamp());
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
end $function$;
