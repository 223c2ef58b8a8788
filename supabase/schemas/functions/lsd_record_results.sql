-- Records what LINE answered for each batch: sent (200, or 409 for a repeated retry
-- key), failed (LINE refused it), deferred (not accepted: try again later) or uncertain
-- (no answer: a timeout or a 5xx, LINE may have accepted it). The deliveries of the
-- recipients who were dropped before sending stay skipped. Once an attempt may have been
-- accepted, the batch stays uncertain whatever a later attempt is answered (a 429, a 401,
-- a deferral): only a 200 or a 409 (sent) settles it, or the review after the window.
-- Given run_id, the steps marked sent are added to that run's lateness (run_lateness).
CREATE OR REPLACE FUNCTION public.lsd_record_results(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  -- The batches by primary key, and the results parsed once: with the outbox's statistics
  -- still saying "nearly empty", the join was planned as a scan of every pending batch
  -- re-parsing the results for each, slower with each page a tick had in flight.
  ids uuid[] := array(select (x->>'batch_id')::uuid from jsonb_array_elements(coalesce(p->'results', '[]')) x);
  n integer;
  lat jsonb;
  held uuid[];
begin
  -- The batches still ours, locked by key first (in key order). The inner select names them
  -- by id alone, so only the primary key serves it; the lease and the status are checked on
  -- the rows as locked, the latest versions.
  -- (A materialized CTE: the checks pushed into it would let outbox_pending serve it.)
  with k as materialized (
    select id, lease_owner, status from outbox_batches where id = any(ids) order by id for update)
  select array_agg(k.id) into held from k where k.lease_owner = owner_ and k.status = 'pending';
  with r as materialized (
    select * from jsonb_to_recordset(coalesce(p->'results', '[]'))
      as x(batch_id uuid, outcome text, request_id text, error jsonb, accepted_at double precision)),
  updated as (
    update outbox_batches b set
      status = case r.outcome when 'sent' then 'sent' when 'failed' then 'failed' else 'pending' end,
      sent_at = case when r.outcome = 'sent' then now_ts end,
      line_request_id = coalesce(r.request_id, b.line_request_id),
      error = case when r.outcome = 'sent' then null else r.error end,
      uncertain_since = case when r.outcome = 'uncertain' then coalesce(b.uncertain_since, b.attempt_started_at, now_ts) else b.uncertain_since end,
      attempt_started_at = null, lease_owner = null, lease_until = null, updated_at = now_ts
    from r where b.id = any(held) and b.id = r.batch_id
    returning b.id, r.outcome, coalesce(to_timestamp(r.accepted_at / 1000.0), now_ts) as accepted),
  done as (
    update deliveries d set
      status = case u.outcome when 'sent' then 'sent' when 'failed' then 'failed' else 'pending' end,
      sent_at = case when u.outcome = 'sent' then now_ts end
    from updated u where d.batch_id = u.id and d.status = 'pending'
    returning u.outcome = 'sent' as sent, d.due_at, u.accepted,
              greatest(extract(epoch from u.accepted - d.due_at)::double precision, 0) as late),
  served as (select * from done where sent),
  earliest as (select due_at, late from served order by due_at limit 1)
  select (select count(*) from done),
         jsonb_build_object(
           'run_id', p->>'run_id', 'at', (select min(accepted) from served), 'served', (select count(*) from served),
           'max_seconds', (select max(late) from served),
           'earliest_due_at', (select due_at from earliest), 'earliest_lateness_seconds', (select late from earliest),
           'buckets', (select coalesce(jsonb_object_agg(k, c), '{}'::jsonb)
                       from (select lsd_lateness_bucket(late) as k, count(*) as c from served group by 1) b))
    into n, lat;
  if p->>'run_id' is not null and p->>'run_id' ~ '^[0-9a-f-]{36}$' then
    perform lsd_lateness_add(lat);
  end if;
  return jsonb_build_object('deliveries', n);
end $function$;
