-- Writing LINE's answers reads the batches answered by key (issue 25). lsd_record_results
-- (newest in 20261207000200_lateness.sql) named its batches "b.id = any(ids) and
-- b.lease_owner = owner_ and b.status = 'pending'": with the outbox's statistics older than
-- its backlog (a few pending rows as far as the planner knew), it read every pending batch
-- through outbox_pending for each write. At LINE's push rate a tick writes some 600 answers
-- a call while thousands of pushes wait: test/distance/record-by-key.test.ts read 6,000
-- batches to write 200 answers. Now the batches still ours are locked by key first, and the
-- update names them by key alone; sequential and bitmap scans off, as for the claims.
-- Otherwise as in 20261207000200, with the same answers.

create or replace function lsd_record_results(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
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
end $$;


select lsd_secure_functions();
select lsd_migration_applied('20261207001103_record_by_key.sql');
