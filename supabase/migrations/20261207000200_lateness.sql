-- Lateness, measured for real (issue 28, item 6): how late each sending tick served, from
-- the moment a step fell due (deliveries.due_at) to LINE's acceptance of the request that
-- carried it, and the Actions minutes the runs billed (item 5's report half).
--
-- A tick's served steps go into a bounded distribution beside its run row (run_lateness):
-- counts per bucket of about 5% width (bucket k holds lateness s with 1.05^(k-1) - 1 < s
-- <= 1.05^k - 1 seconds: 0 s alone in bucket 0, a day in bucket 234), the exact maximum, and
-- the earliest due step served with its own lateness (the tick's headline figure). Buckets of
-- the same edges add up, so days and months merge without keeping a row per step; a
-- percentile read from them is the upper edge of its bucket (at most 5% over), never past
-- the exact maximum.
--
-- lsd_record_results is redefined (its newest definition was 20261126000050_operations_hold):
-- the same updates and answer; given a run_id, it also adds the steps it marked sent to that
-- run's distribution, each late by (accepted_at, the moment LINE answered, given per result
-- by the sender; else the record's now) minus its due_at.

create table if not exists run_lateness (
  run_id uuid primary key references runs (id) on delete cascade,
  -- When this run's first accepted step was recorded: the day it is counted in.
  at timestamptz not null,
  served bigint not null default 0,
  max_seconds double precision not null default 0,
  earliest_due_at timestamptz,
  earliest_lateness_seconds double precision,
  buckets jsonb not null default '{}'::jsonb
);
comment on table run_lateness is 'How late each sending tick served: steps per lateness bucket (about 5% wide, see lsd_lateness_bucket), the exact maximum, and its earliest due step. Counts only.';
create index if not exists run_lateness_at on run_lateness (at);
alter table run_lateness enable row level security;

-- The bucket of a lateness in seconds (negative counts as 0: a step sent ahead of a clock skew).
create or replace function lsd_lateness_bucket(seconds double precision) returns integer
language sql immutable as $$
  select case when seconds <= 0 then 0 else ceil(ln(1 + seconds) / ln(1.05))::integer end
$$;

-- The upper edge of a bucket, in seconds.
create or replace function lsd_lateness_edge(bucket integer) returns double precision
language sql immutable as $$
  select power(1.05, bucket) - 1
$$;

-- Two distributions added up, bucket by bucket.
create or replace function lsd_lateness_merge(a jsonb, b jsonb) returns jsonb
language sql immutable as $$
  select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
  from (select k, sum(v::bigint) as n from (
          select key as k, value as v from jsonb_each_text(coalesce(a, '{}'::jsonb))
          union all
          select key, value from jsonb_each_text(coalesce(b, '{}'::jsonb))) x
        group by k) y
$$;

-- The q-quantile (0-1) of a distribution, as its bucket's upper edge, capped at the maximum.
create or replace function lsd_lateness_quantile(buckets jsonb, q double precision, max_seconds double precision)
returns double precision
language sql immutable as $$
  with b as (select key::integer as k, value::bigint as n from jsonb_each_text(coalesce(buckets, '{}'::jsonb))),
  c as (select k, sum(n) over (order by k) as cum, sum(n) over () as total from b)
  select least(lsd_lateness_edge(min(k)), max_seconds) from c where cum >= q * total
$$;

-- Adds served steps to a run's distribution: p {run_id, at, served, max_seconds, earliest_due_at,
-- earliest_lateness_seconds, buckets}. Ticks record in order, shards are runs of their own;
-- the upsert still merges correctly if two records of one run meet.
create or replace function lsd_lateness_add(p jsonb) returns void
language plpgsql as $$
begin
  if coalesce((p->>'served')::bigint, 0) = 0 then return; end if;
  -- A run id that names no run (a caller's mistake) records nothing rather than fail the record.
  if not exists (select 1 from runs where id = (p->>'run_id')::uuid) then return; end if;
  insert into run_lateness as l (run_id, at, served, max_seconds, earliest_due_at, earliest_lateness_seconds, buckets)
  values ((p->>'run_id')::uuid, (p->>'at')::timestamptz, (p->>'served')::bigint, (p->>'max_seconds')::double precision,
          (p->>'earliest_due_at')::timestamptz, (p->>'earliest_lateness_seconds')::double precision, p->'buckets')
  on conflict (run_id) do update set
    at = least(l.at, excluded.at),
    served = l.served + excluded.served,
    max_seconds = greatest(l.max_seconds, excluded.max_seconds),
    earliest_lateness_seconds = case when excluded.earliest_due_at < l.earliest_due_at
                                     then excluded.earliest_lateness_seconds else l.earliest_lateness_seconds end,
    earliest_due_at = least(l.earliest_due_at, excluded.earliest_due_at),
    buckets = lsd_lateness_merge(l.buckets, excluded.buckets);
end $$;

-- Records what LINE answered for each batch: sent (200, or 409 for a repeated retry
-- key), failed (LINE refused it), deferred (not accepted: try again later) or uncertain
-- (no answer: a timeout or a 5xx, LINE may have accepted it). The deliveries of the
-- recipients who were dropped before sending stay skipped. Once an attempt may have been
-- accepted, the batch stays uncertain whatever a later attempt is answered (a 429, a 401,
-- a deferral): only a 200 or a 409 (sent) settles it, or the review after the window.
-- Given run_id, the steps marked sent are added to that run's lateness (run_lateness).
create or replace function lsd_record_results(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  -- The batches by primary key, and the results parsed once: with the outbox's statistics
  -- still saying "nearly empty", the join was planned as a scan of every pending batch
  -- re-parsing the results for each, slower with each page a tick had in flight.
  ids uuid[] := array(select (x->>'batch_id')::uuid from jsonb_array_elements(coalesce(p->'results', '[]')) x);
  n integer;
  lat jsonb;
begin
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
    from r where b.id = any(ids) and b.id = r.batch_id and b.lease_owner = owner_ and b.status = 'pending'
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

-- Lateness per day of the runs recorded in [from, to) (epoch ms or ISO), days in p.zone
-- (an IANA name; default Asia/Tokyo): [{day, runs, served, p50, p95, max}] in seconds,
-- oldest day first. Counts only.
create or replace function lsd_lateness_by_day(p jsonb) returns jsonb
language sql stable set plan_cache_mode = force_custom_plan as $$
  with r as (
    select (l.at at time zone coalesce(p->>'zone', 'Asia/Tokyo'))::date as day, l.served, l.max_seconds, l.buckets
    from run_lateness l
    where l.at >= lsd_ts(p->'from') and l.at < lsd_ts(p->'to')),
  d as (
    select day, count(*) as runs, sum(served) as served, max(max_seconds) as max_seconds,
           (select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
            from (select key as k, sum(value::bigint) as n from r r2, jsonb_each_text(r2.buckets)
                  where r2.day = r.day group by key) x) as buckets
    from r group by day)
  select coalesce(jsonb_agg(jsonb_build_object(
           'day', to_char(day, 'YYYY-MM-DD'), 'runs', runs, 'served', served,
           'p50', round(lsd_lateness_quantile(buckets, 0.5, max_seconds)::numeric, 1),
           'p95', round(lsd_lateness_quantile(buckets, 0.95, max_seconds)::numeric, 1),
           'max', round(max_seconds::numeric, 1)) order by day), '[]'::jsonb)
  from d
$$;

-- The Actions minutes of the runs started in [from, to): each run (each shard is a job of its
-- own) billed in whole minutes from its start to its end, at least one; a run still going
-- counts up to p.now. Plan-only runs write no row and cost nothing here.
-- {runs, billed_minutes, unfinished}
create or replace function lsd_actions_usage(p jsonb) returns jsonb
language sql stable set plan_cache_mode = force_custom_plan as $$
  select jsonb_build_object(
    'runs', count(*),
    'billed_minutes', coalesce(sum(greatest(1, ceil(extract(epoch from coalesce(finished_at, lsd_ts(p->'now')) - started_at) / 60))), 0),
    'unfinished', count(*) filter (where finished_at is null))
  from runs
  where started_at >= lsd_ts(p->'from') and started_at < lsd_ts(p->'to') and not dry_run
$$;

select lsd_secure_tables(array['run_lateness']);
select lsd_secure_functions();
select lsd_migration_applied('20261207000200_lateness.sql');
