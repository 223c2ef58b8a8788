-- line-step-delivery: leases fit long ticks.
--
-- A tick leases the enrollments it plans and the outbox batches it sends for lease_seconds
-- (300 by default). A tick that sends for longer (a million due at LINE's limit, a slow
-- answer, rate-limit waits) renews the leases it still holds, so that another tick started
-- meanwhile takes over nothing that is in flight (it would mark an attempt in progress as
-- uncertain and send it again).
--   p: {now, owner, lease_seconds, enrollment_ids: [uuid], batch_ids: [uuid]}
-- Only rows this owner still holds are renewed; a row locked right now (being committed or
-- recorded, which gives its lease back) is skipped.
CREATE OR REPLACE FUNCTION public.lsd_renew_leases(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  until_ timestamptz := now_ts + make_interval(secs => coalesce((p->>'lease_seconds')::integer, 300));
  enrollment_ids uuid[] := array(select x::uuid from jsonb_array_elements_text(coalesce(p->'enrollment_ids', '[]'::jsonb)) x);
  batch_ids uuid[] := array(select x::uuid from jsonb_array_elements_text(coalesce(p->'batch_ids', '[]'::jsonb)) x);
  n_enrollments integer;
  n_batches integer;
begin
  with mine as (
    select id from enrollments where id = any(enrollment_ids) and lease_owner = owner_
    order by id for update skip locked)
  update enrollments e set lease_until = until_ from mine where e.id = mine.id;
  get diagnostics n_enrollments = row_count;

  with mine as (
    select id from outbox_batches where id = any(batch_ids) and lease_owner = owner_ and status = 'pending'
    order by id for update skip locked)
  update outbox_batches b set lease_until = until_ from mine where b.id = mine.id;
  get diagnostics n_batches = row_count;

  return jsonb_build_object('enrollments', n_enrollments, 'batches', n_batches);
end $function$;
