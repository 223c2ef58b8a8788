-- Writes the enrollment (leased to the reply) and its first step's delivery (kind reply,
-- pending) before the reply goes, in one transaction; or says why not. The follow must still
-- be waiting for the tick (locked here, so a tick's ingest does not take it meanwhile).
--   p: {event_key, scenario_id, scenario_hash, step_id, due_at, entered_at, trigger, now, lease_seconds}
--      or {event_key, skip: reason, now}: no reply, the reason recorded
--   returns: {go: true, enrollment_id, delivery_id} or {go: false, reason}
CREATE OR REPLACE FUNCTION public.lsd_reply_begin(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  key_ text := p->>'event_key';
  e events;
  enrollment_ uuid;
  delivery_ bigint;
  why text;
begin
  select * into e from events where idempotency_key = key_ for update skip locked;
  if not found then
    why := 'the tick was taking the follow in';
  elsif p->>'skip' is not null then
    why := p->>'skip';
  elsif e.status <> 'new' or (e.lease_until is not null and e.lease_until > now_ts) then
    why := 'the tick took the follow in first';
  end if;
  insert into replies (event_key, line_user_id, scenario_id, step_id, status, reason, created_at, updated_at)
  values (key_, coalesce(e.line_user_id, ''), p->>'scenario_id', p->>'step_id', case when why is null then 'sending' else 'skipped' end, why, now_ts, now_ts)
  on conflict (event_key) do nothing;
  if not found then
    return jsonb_build_object('go', false, 'reason', 'this follow was answered before (a redelivered webhook)');
  end if;
  if why is not null then
    return jsonb_build_object('go', false, 'reason', why);
  end if;
  -- The follow applied to the user's record as the tick's ingest will apply it (again, to
  -- the same effect): a tick planning the enrollment before it takes the follow in sees a
  -- user who follows.
  why := lsd_ingest_user_event(e.line_user_id, 'follow', e.properties, e.occurred_at, now_ts);
  if why is not null then
    update replies set status = 'skipped', reason = why where event_key = key_;
    return jsonb_build_object('go', false, 'reason', why);
  end if;

  insert into enrollments (scenario_id, line_user_id, enrollment_key, status, step_id, entered_at, previous_at, due_at, trigger, trigger_event_id,
                           scenario_hash, shard_key, lease_owner, lease_until, created_at, updated_at)
  values (p->>'scenario_id', e.line_user_id, null, 'active', p->>'step_id', lsd_ts(p->'entered_at'), lsd_ts(p->'entered_at'), lsd_ts(p->'entered_at'),
          coalesce(p->'trigger', '{}'), e.id, p->>'scenario_hash', lsd_shard_key(e.line_user_id),
          'reply:' || key_, now_ts + make_interval(secs => coalesce((p->>'lease_seconds')::integer, 60)), now_ts, now_ts)
  on conflict (scenario_id, line_user_id, enrollment_key) where status = 'active' do nothing
  returning id into enrollment_;
  if enrollment_ is null then
    update replies set status = 'skipped', reason = 'the user is inside the scenario already' where event_key = key_;
    return jsonb_build_object('go', false, 'reason', 'the user is inside the scenario already');
  end if;
  insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, created_at)
  values (enrollment_, p->>'scenario_id', p->>'step_id', e.line_user_id, 'reply', lsd_ts(p->'due_at'), 'pending', now_ts)
  returning id into delivery_;
  update replies set enrollment_id = enrollment_, delivery_id = delivery_ where event_key = key_;
  return jsonb_build_object('go', true, 'enrollment_id', enrollment_, 'delivery_id', delivery_);
end $function$;
