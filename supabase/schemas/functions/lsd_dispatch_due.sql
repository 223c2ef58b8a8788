-- What is due now: the reasons (urgent ones first) and the earliest due moment.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_due(now_ts timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
end $function$;
