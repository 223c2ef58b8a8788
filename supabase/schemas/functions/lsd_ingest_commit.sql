-- Applies what routing decided for a page of events, in one transaction: enrollments
-- created, ended or woken; the events marked done, or set aside with the reason when
-- routing could not handle them (only while the lease is still ours).
CREATE OR REPLACE FUNCTION public.lsd_ingest_commit(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_exit integer; n_enroll integer; n_wake integer; n_done integer; n_aside integer; n_update integer;
begin
  -- An exit on the goal's own event (a purchase that ends a cart scenario) is a conversion too.
  update enrollments set status = 'exited', exit_reason = x.reason, ended_at = now_ts, due_at = null, lease_owner = null, lease_until = null, updated_at = now_ts,
         converted_at = coalesce(enrollments.converted_at, lsd_ts(x.converted_at))
  from jsonb_to_recordset(coalesce(p->'exit', '[]')) as x(enrollment_id uuid, reason text, converted_at jsonb)
  where enrollments.id = x.enrollment_id and enrollments.status = 'active';
  get diagnostics n_exit = row_count;

  -- An enrollment that a later event of the same page already ended is stored as ended
  -- (re-entry rules still see it).
  insert into enrollments (scenario_id, line_user_id, enrollment_key, status, exit_reason, converted_at, ended_at, step_id, entered_at, previous_at, due_at, trigger, trigger_event_id, scenario_hash, shard_key, created_at, updated_at)
  select x.scenario_id, x.line_user_id, x.enrollment_key, coalesce(x.status, 'active'), x.exit_reason, lsd_ts(x.converted_at), case when x.status = 'exited' then now_ts end,
         x.step_id, lsd_ts(x.entered_at), lsd_ts(x.entered_at), case when coalesce(x.status, 'active') = 'active' then lsd_ts(x.entered_at) end,
         coalesce(x.trigger, '{}'), x.trigger_event_id, x.scenario_hash, lsd_shard_key(x.line_user_id), now_ts, now_ts
  from jsonb_to_recordset(coalesce(p->'enroll', '[]')) as x(scenario_id text, line_user_id text, enrollment_key text, status text, exit_reason text, converted_at jsonb, step_id text, entered_at jsonb, trigger jsonb, trigger_event_id bigint, scenario_hash text)
  on conflict (scenario_id, line_user_id, enrollment_key) where status = 'active' do nothing;
  get diagnostics n_enroll = row_count;

  -- A keyed enrollment whose key came again (a moved booking): its trigger is replaced and
  -- it is planned again now. Its lease is cleared, so a plan made on the old trigger by a
  -- tick running at the same moment is dropped at its commit.
  update enrollments set trigger = coalesce(x.trigger, '{}'), trigger_event_id = x.trigger_event_id, due_at = least(due_at, now_ts),
         lease_owner = null, lease_until = null, updated_at = now_ts
  from jsonb_to_recordset(coalesce(p->'update', '[]')) as x(enrollment_id uuid, trigger jsonb, trigger_event_id bigint)
  where enrollments.id = x.enrollment_id and enrollments.status = 'active';
  get diagnostics n_update = row_count;

  update enrollments set due_at = least(due_at, now_ts), updated_at = now_ts
  where id in (select x::uuid from jsonb_array_elements_text(coalesce(p->'wake', '[]'::jsonb)) x) and status = 'active';
  get diagnostics n_wake = row_count;

  update events set status = 'set_aside', status_reason = left(x.reason, 500), processed_at = now_ts, lease_owner = null, lease_until = null
  from jsonb_to_recordset(coalesce(p->'set_aside', '[]')) as x(id bigint, reason text)
  where events.id = x.id and events.lease_owner = owner_ and events.status = 'new';
  get diagnostics n_aside = row_count;

  update events set status = 'done', processed_at = now_ts, lease_owner = null, lease_until = null
  where id in (select x::bigint from jsonb_array_elements_text(coalesce(p->'done', '[]'::jsonb)) x) and lease_owner = owner_ and status = 'new';
  get diagnostics n_done = row_count;

  return jsonb_build_object('exited', n_exit, 'enrolled', n_enroll, 'woken', n_wake, 'updated', n_update, 'done', n_done, 'set_aside', n_aside);
end $function$;
