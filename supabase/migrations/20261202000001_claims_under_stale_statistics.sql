-- line-step-delivery: the claims stay proportional to the page they take, whatever the
-- table statistics say.
--
-- Every claim takes the first N rows of a queue in order (due enrollments by due_at, new
-- events by id, pending batches by created_at) from a partial index. When a burst fills a
-- queue faster than autovacuum analyzes it (100,000 users due at 09:00, a campaign's
-- events), the statistics still say "nearly empty", and the planner picks a bitmap scan of
-- every row in the queue followed by a sort, for each page: 100,000 due took 875 ms a page
-- instead of 3.5 ms, and a tick of 200 pages did not finish. Without bitmap scans the only
-- cheap plan left is the ordered index scan that stops after N rows; and without sequential
-- scans, a lookup of a page's rows by id goes by primary key (the statistics said the
-- table was so small that reading all of it was cheaper).
--
-- A function redefined later (create or replace) loses these settings unless it repeats
-- them: test/store/claim-plans.test.ts checks they are there.

alter function lsd_claim_due(jsonb) set enable_bitmapscan = off;
alter function lsd_claim_due(jsonb) set enable_seqscan = off;
alter function lsd_ingest_claim(jsonb) set enable_bitmapscan = off;
alter function lsd_ingest_claim(jsonb) set enable_seqscan = off;
alter function lsd_ingest_peek(jsonb) set enable_bitmapscan = off;
alter function lsd_ingest_peek(jsonb) set enable_seqscan = off;
alter function lsd_peek_due(jsonb) set enable_bitmapscan = off;
alter function lsd_peek_due(jsonb) set enable_seqscan = off;

-- The claim's sweep for batches uncertain past the retry-key window read every pending
-- batch on each call (no index has uncertain_since): quadratic in a large outbox.
create index if not exists outbox_uncertain on outbox_batches (uncertain_since)
  where status = 'pending' and uncertain_since is not null;

-- As in 20261201000001, with three costs taken out that grew with the outbox or the page:
-- the page's batches are read by primary key before any filter (the status filter let the
-- planner scan every pending batch for each page), each group's target batches are an
-- array indexed by position (a join on a computed position was a nested loop over the page
-- for each recipient: 37,000 comparisons for 200 batches), and the updates name their rows
-- by key.
create or replace function lsd_merge_batches(ids uuid[], now_ts timestamptz) returns uuid[]
language plpgsql set plan_cache_mode = force_custom_plan set enable_bitmapscan = off set enable_seqscan = off as $$
declare
  from_ids uuid[];
  to_ids uuid[];
  users text[];
  places bigint[];
  emptied uuid[];
  emptied_to uuid[];
begin
  with page as materialized (
    select b.id, b.kind, b.created_at, b.recipients, b.scenario_id, b.step_id, b.aggregation_unit, b.messages,
           b.status, b.attempts, b.first_attempt_at, b.uncertain_since, b.attempt_started_at
    from outbox_batches b where b.id = any(ids)),
  cand as materialized (
    select id, created_at, recipients,
           dense_rank() over (order by scenario_id, step_id, coalesce(aggregation_unit, ''), messages) as g
    from page
    where status = 'pending' and attempts = 0 and first_attempt_at is null
      and uncertain_since is null and attempt_started_at is null
      -- Messages only: a rich menu batch is not a multicast.
      and kind in ('push', 'multicast')),
  -- Groups that fit in fewer batches than they have.
  fewer as (
    select g from cand group by g having count(*) > ceil(sum(cardinality(recipients)) / 500.0)),
  members as materialized (
    select c.g, c.id, c.created_at, r.user_id, r.ord
    from cand c cross join lateral unnest(c.recipients) with ordinality as r(user_id, ord)
    where c.g in (select g from fewer)),
  mergeable as materialized (
    select g from members group by g having count(distinct user_id) = count(*)),
  -- Each group's batches in order: the k-th carries recipients (k-1)*500+1 .. k*500.
  targets as materialized (
    select c.g, array_agg(c.id order by c.created_at, c.id) as batch_ids
    from cand c where c.g in (select g from mergeable) group by c.g),
  placed as materialized (
    select m.g, m.id as from_id, m.user_id,
           row_number() over (partition by m.g order by m.created_at, m.id, m.ord) as n
    from members m where m.g in (select g from mergeable))
  select array_agg(p.from_id order by p.g, p.n), array_agg(t.batch_ids[((p.n - 1) / 500 + 1)::integer] order by p.g, p.n),
         array_agg(p.user_id order by p.g, p.n), array_agg(p.n order by p.g, p.n)
    into from_ids, to_ids, users, places
  from placed p join targets t on t.g = p.g;

  if from_ids is null then
    return ids;
  end if;

  -- Each recipient's delivery points at the batch that will carry it.
  update deliveries d set batch_id = m.to_id
  from unnest(from_ids, to_ids, users) as m(from_id, to_id, user_id)
  where d.batch_id = any(from_ids) and m.from_id <> m.to_id and d.batch_id = m.from_id and d.line_user_id = m.user_id;

  update outbox_batches b set recipients = x.recipients,
    kind = case when cardinality(x.recipients) > 1 then 'multicast' else 'push' end, updated_at = now_ts
  from (select m.to_id, array_agg(m.user_id order by m.n) as recipients
        from unnest(to_ids, users, places) as m(to_id, user_id, n) group by m.to_id) x
  where b.id = any(to_ids) and b.id = x.to_id and b.recipients is distinct from x.recipients;

  -- The batches no recipient is left in: any other delivery of theirs goes to the first
  -- batch of their group (none is expected: a never-attempted batch has only pending ones).
  -- (An anti-join: "<> all(to_ids)" compared every recipient with every other.)
  with firsts as (
    select distinct on (m.from_id) m.from_id as id, m.to_id as first_id
    from unnest(from_ids, to_ids, places) as m(from_id, to_id, n)
    order by m.from_id, m.n)
  select array_agg(f.id), array_agg(f.first_id) into emptied, emptied_to
  from firsts f
  where not exists (select 1 from unnest(to_ids) as t(id) where t.id = f.id);
  if emptied is null then
    return ids;
  end if;
  update deliveries d set batch_id = m.to_id
  from unnest(emptied, emptied_to) as m(from_id, to_id) where d.batch_id = any(emptied) and d.batch_id = m.from_id;
  delete from outbox_batches where id = any(emptied);
  return array(select i from unnest(ids) i where i <> all(emptied));
end $$;

-- Claims a page of pending batches, as in 20261201000001, with plans that stay on keys and
-- ordered index scans (see the top of this file). Where a statement reads the page's batches
-- by id and also checks their status, the ids are read first (a materialized CTE): with the
-- status beside the ids, the planner could walk the whole pending index instead of the keys.
create or replace function lsd_claim_batches(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_bitmapscan = off set enable_seqscan = off as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  lease interval := make_interval(secs => coalesce((p->>'lease_seconds')::integer, 300));
  lim integer := coalesce((p->>'limit')::integer, 200);
  win interval := make_interval(secs => coalesce((p->>'retry_window_seconds')::integer, 23 * 3600));
  only_ text[] := case when jsonb_typeof(p->'scenario_ids') = 'array'
                       then coalesce((select array_agg(t) from jsonb_array_elements_text(p->'scenario_ids') t), '{}') end;
  checked_before timestamptz := lsd_ts(p->'checked_before');
  exit_types jsonb := case when jsonb_typeof(p->'exit_types') = 'object' then p->'exit_types' else '{}'::jsonb end;
  check_limit integer := 20000;
  picked_ids uuid[];
  checked uuid[];
  reviewed integer;
  drops jsonb;
  dropped jsonb := '{"skipped": []}'::jsonb;
  claimed jsonb;
begin
  -- An attempt that never recorded its result (the process died) counts as uncertain.
  -- (A join on the primary key: a semi-join here was planned as two sequential scans while
  -- the table's statistics said it was empty, quadratic once it filled within one tick.)
  with stuck as (
    select id from outbox_batches
    where status = 'pending' and attempt_started_at is not null and lease_until < now_ts
    limit 1000 for update skip locked)
  update outbox_batches b set uncertain_since = coalesce(b.uncertain_since, b.attempt_started_at), attempt_started_at = null
  from stuck where b.id = stuck.id;

  with old as (
    select id from outbox_batches
    where status = 'pending' and uncertain_since < now_ts - win and (lease_until is null or lease_until < now_ts)
    limit 1000 for update skip locked),
  marked as (
    update outbox_batches set status = 'needs_review', lease_owner = null, updated_at = now_ts from old where outbox_batches.id = old.id returning outbox_batches.id),
  flagged as (
    update deliveries set status = 'needs_review' where batch_id in (select id from marked) and status = 'pending' returning 1)
  select count(*) into reviewed from marked;

  -- tried_since: batches this tick already tried (deferred ones wait for the next tick).
  picked_ids := array(
    select id from outbox_batches
    where status = 'pending' and (lease_until is null or lease_until < now_ts)
      and (p->'tried_since' is null or last_attempt_at is null or last_attempt_at < lsd_ts(p->'tried_since'))
      and (only_ is null or scenario_id = any(only_))
    order by created_at limit lim for update skip locked);
  -- The same step's identical message planned by several pages or lanes goes as one set of
  -- multicasts: the never-attempted batches of this page are packed again (see above).
  picked_ids := lsd_merge_batches(picked_ids, now_ts);

  if checked_before is not null then
    -- Batches to check: planned before checked_before, and no attempt of them may have
    -- reached LINE (never uncertain, no attempt in progress). The page ends where the
    -- recipients to check pass check_limit (the rest is claimed by the next call).
    with load as (
      select id, created_at,
             case when created_at <= checked_before and uncertain_since is null and attempt_started_at is null
                  then cardinality(recipients) else 0 end as n
      from outbox_batches where id = any(picked_ids)),
    running as (
      select id, n, sum(n) over (order by created_at, id) - n as before from load)
    select array(select id from running where before < check_limit),
           array(select id from running where before < check_limit and n > 0)
      into picked_ids, checked;

    if cardinality(checked) > 0 then
      -- Only leaving on the user's account counts: an unfollow, an exit event, a new
      -- trigger that restarted the scenario, or a retired scenario. (An enrollment the
      -- engine ended at a later step, say for a date that is not a date, still gets this one.)
      select coalesce(jsonb_agg(jsonb_build_object('batch_id', g.batch_id, 'line_user_id', g.line_user_id, 'reason', g.reason)), '[]'::jsonb)
        into drops
      from (
        select d.batch_id, d.line_user_id,
               case
                 when u.following is false or (e.status = 'exited' and e.exit_reason = 'unfollowed') then 'unfollowed'
                 when sc.retired_at is not null then 'exited before sending: the scenario was retired'
                 when e.status <> 'exited' then null
                 when e.exit_reason like 'exit: %' then 'exited before sending: ' || substr(e.exit_reason, 7)
                 when e.exit_reason like 'goal: %' or e.exit_reason = 'restarted by a new trigger' then 'exited before sending: ' || e.exit_reason
               end as reason
        from outbox_batches b
        join deliveries d on d.batch_id = b.id and d.status = 'pending'
        join enrollments e on e.id = d.enrollment_id
        left join line_users u on u.line_user_id = d.line_user_id
        left join scenarios sc on sc.scenario_id = b.scenario_id
        where b.id = any(checked)) g
      where g.reason is not null;
      if jsonb_array_length(drops) > 0 then
        dropped := lsd_skip_recipients(drops, now_ts);
      end if;
    end if;
  end if;

  with keyed as materialized (
    select id, status from outbox_batches where id = any(picked_ids)),
  leased as (
    update outbox_batches b set lease_owner = owner_, lease_until = now_ts + lease, attempts = b.attempts + 1,
      first_attempt_at = coalesce(b.first_attempt_at, now_ts), last_attempt_at = now_ts, attempt_started_at = now_ts, updated_at = now_ts
    from keyed k where b.id = k.id and k.status = 'pending'
    returning b.*)
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'scenario_id', scenario_id, 'step_id', step_id, 'kind', kind, 'messages', messages,
           'recipients', to_jsonb(recipients), 'aggregation_unit', aggregation_unit, 'attempts', attempts, 'created_at', lsd_ms(created_at)) order by created_at), '[]'::jsonb)
    into claimed from leased;

  return jsonb_build_object(
    'batches', claimed,
    'needs_review', reviewed,
    'skipped', dropped->'skipped',
    -- Events taken in since the entry, of the types the batch's scenario exits on, for the
    -- recipients whose enrollment finished (an active one is ended by the event itself).
    'exit_events', case when cardinality(checked) > 0 then coalesce((
      with types as (
        select key as scenario_id, array(select jsonb_array_elements_text(value)) as names
        from jsonb_each(exit_types) where jsonb_typeof(value) = 'array'),
      keyed as materialized (
        select id, scenario_id, status from outbox_batches where id = any(checked))
      select jsonb_agg(jsonb_build_object('batch_id', d.batch_id, 'line_user_id', d.line_user_id, 'type', ev.type,
               'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties, 'enrollment_key', e.enrollment_key))
      from keyed b
      join types t on t.scenario_id = b.scenario_id
      join deliveries d on d.batch_id = b.id and d.status = 'pending'
      join enrollments e on e.id = d.enrollment_id and e.status = 'finished'
      join events ev on ev.line_user_id = d.line_user_id and ev.occurred_at > e.entered_at and ev.status = 'done' and ev.type = any(t.names)
      where b.id = any(checked) and b.status = 'pending'), '[]'::jsonb) else '[]'::jsonb end);
end $$;


select lsd_secure_functions();
select lsd_migration_applied('20261202000001_claims_under_stale_statistics.sql');
