-- What came of the reply: sent (the delivery is sent), failed (LINE refused it: the
-- delivery is removed, so the tick pushes the step), unknown (no answer: the delivery is
-- kept, as sent, and the step is never pushed). The enrollment's lease is given back.
--   p: {event_key, outcome: sent | failed | unknown, reason, request_id, now}
CREATE OR REPLACE FUNCTION public.lsd_reply_finish(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  outcome_ text := p->>'outcome';
  r replies;
begin
  if outcome_ not in ('sent', 'failed', 'unknown') then
    raise invalid_parameter_value using message = 'outcome is sent, failed or unknown';
  end if;
  update replies set status = outcome_, reason = left(p->>'reason', 500), line_request_id = p->>'request_id', updated_at = now_ts
  where event_key = p->>'event_key' and status = 'sending'
  returning * into r;
  if not found then
    return jsonb_build_object('finished', false);
  end if;
  if outcome_ = 'failed' then
    delete from deliveries where id = r.delivery_id and status = 'pending';
  else
    update deliveries set status = 'sent', sent_at = now_ts,
      reason = case when outcome_ = 'unknown' then left('reply: no answer from LINE (' || coalesce(p->>'reason', 'unknown') || '); counted as sent, never pushed', 500) end
    where id = r.delivery_id;
  end if;
  update enrollments set lease_owner = null, lease_until = null, updated_at = now_ts
  where id = r.enrollment_id and lease_owner = 'reply:' || r.event_key;
  return jsonb_build_object('finished', true);
end $function$;
