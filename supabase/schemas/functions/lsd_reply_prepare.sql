-- What the webhook needs to decide a reply with the engine's own routing and planner: the
-- follow event as recorded, the user as the tick will see them once the follow is taken
-- in (lsd_apply_user_event), the user's enrollments (as lsd_ingest_enrollments gives them
-- to routing), and the current definitions of scenarios whose first step is marked reply.
--   p: {event_key, now}
CREATE OR REPLACE FUNCTION public.lsd_reply_prepare(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  e events;
  u line_users;
begin
  select * into e from events where idempotency_key = p->>'event_key';
  if not found or e.type <> 'follow' or e.line_user_id is null then
    return jsonb_build_object('none', 'the follow is not recorded');
  end if;
  if e.status <> 'new' or (e.lease_until is not null and e.lease_until > now_ts) then
    return jsonb_build_object('none', 'the tick took the follow in first');
  end if;
  if exists (select 1 from replies where event_key = p->>'event_key') then
    return jsonb_build_object('none', 'this follow was answered before (a redelivered webhook)');
  end if;
  select * into u from line_users where line_user_id = e.line_user_id;
  if not found then
    u.line_user_id := e.line_user_id;
    u.following := false;
    u.attributes := '{}'::jsonb;
    u.answers := '{}'::jsonb;
  end if;
  u := lsd_apply_user_event(u, 'follow', e.properties, e.occurred_at, now_ts);
  return jsonb_build_object(
    'event', jsonb_build_object('id', e.id::text, 'type', e.type, 'occurred_at', lsd_ms(e.occurred_at), 'properties', e.properties),
    'user', jsonb_build_object('line_user_id', u.line_user_id, 'following', u.following,
      'attributes', coalesce(u.attributes, '{}'::jsonb) || jsonb_build_object('linked', u.member_id is not null or coalesce((u.attributes->>'linked')::boolean, false)),
      'answers', coalesce(u.answers, '{}'::jsonb)),
    'enrollments', lsd_ingest_enrollments(array[e.line_user_id]),
    'scenarios', coalesce((
      select jsonb_agg(jsonb_build_object('id', s.scenario_id, 'hash', s.current_hash, 'activated_at', lsd_ms(s.activated_at), 'definition', v.definition))
      from scenarios s join scenario_versions v on v.scenario_id = s.scenario_id and v.hash = s.current_hash
      where v.definition->'steps'->0->>'type' = 'message' and (v.definition->'steps'->0->'reply') = 'true'::jsonb), '[]'::jsonb));
end $function$;
