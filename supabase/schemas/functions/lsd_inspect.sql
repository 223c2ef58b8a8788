-- One user's story, for the CLI's inspect command (local only: this answer holds the
-- user's ids, attributes and events).
--   p: user: a LINE user id (U + 32 hex digits) or the shop's member id; events_limit
--      (default 200, newest first).
--   returns: {found: false, waiting_link: events waiting for this member id} or {found:
--      true, user, enrollments, deliveries (with their batch), events, events_total}.
CREATE OR REPLACE FUNCTION public.lsd_inspect(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  who text := btrim(coalesce(p->>'user', ''));
  lim integer := coalesce((p->>'events_limit')::integer, 200);
  uid text;
  u line_users;
begin
  if who ~ '^U[0-9a-f]{32}$' then
    uid := who;
  else
    select line_user_id into uid from line_users where member_id = who;
  end if;
  select * into u from line_users where line_user_id = uid;
  if uid is null or (u.line_user_id is null and not exists (select 1 from enrollments where line_user_id = uid)
                     and not exists (select 1 from events where line_user_id = uid)) then
    return jsonb_build_object('found', false,
      'waiting_link', (select count(*) from events where status = 'waiting_link' and member_id = who));
  end if;
  return jsonb_build_object(
    'found', true,
    'user', jsonb_build_object('line_user_id', uid, 'member_id', u.member_id, 'following', u.following,
              'followed_at', lsd_ms(u.followed_at), 'unfollowed_at', lsd_ms(u.unfollowed_at), 'follow_route', u.follow_route,
              'attributes', coalesce(u.attributes, '{}'::jsonb), 'answers', coalesce(u.answers, '{}'::jsonb)),
    'enrollments', coalesce((
      select jsonb_agg(jsonb_build_object('id', e.id, 'scenario_id', e.scenario_id, 'status', e.status, 'step_id', e.step_id,
               'entered_at', lsd_ms(e.entered_at), 'previous_at', lsd_ms(e.previous_at), 'due_at', lsd_ms(e.due_at),
               'due_never', e.due_at = 'infinity'::timestamptz, 'waiting_for', e.waiting_for,
               'wait_started_at', lsd_ms(e.wait_started_at), 'converted_at', lsd_ms(e.converted_at), 'exit_reason', e.exit_reason,
               'ended_at', lsd_ms(e.ended_at), 'trigger_event_id', e.trigger_event_id::text, 'scenario_hash', e.scenario_hash)
             order by e.entered_at, e.created_at)
      from enrollments e where e.line_user_id = uid), '[]'::jsonb),
    'deliveries', coalesce((
      select jsonb_agg(jsonb_build_object('enrollment_id', d.enrollment_id, 'scenario_id', d.scenario_id, 'step_id', d.step_id,
               'kind', d.kind, 'status', d.status, 'reason', d.reason, 'due_at', lsd_ms(d.due_at), 'created_at', lsd_ms(d.created_at),
               'sent_at', lsd_ms(d.sent_at), 'batch_id', d.batch_id,
               'batch', case when b.id is null then null else jsonb_build_object('kind', b.kind, 'status', b.status, 'attempts', b.attempts,
                          'recipients', cardinality(b.recipients), 'line_request_id', b.line_request_id, 'error', b.error,
                          'aggregation_unit', b.aggregation_unit, 'sent_at', lsd_ms(b.sent_at)) end)
             order by d.due_at, d.id)
      from deliveries d left join outbox_batches b on b.id = d.batch_id
      where d.line_user_id = uid), '[]'::jsonb),
    'events', coalesce((
      select jsonb_agg(jsonb_build_object('id', ev.id::text, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at),
               'status', ev.status, 'status_reason', ev.status_reason, 'source', ev.source, 'properties', ev.properties)
             order by ev.occurred_at, ev.id)
      from (select * from events where line_user_id = uid or (u.member_id is not null and member_id = u.member_id and line_user_id is null)
            order by occurred_at desc, id desc limit lim) ev), '[]'::jsonb),
    'events_total', (select count(*) from events where line_user_id = uid));
end $function$;
