-- line-step-delivery: the merge costs what its page holds.
--
-- Two costs found by a whole tick of 1,000 distinct multicasts of 500 (LINE's rate at 48%):
-- lsd_merge_batches' "groups that fit in fewer batches" was recomputed for each batch of the
-- page (a nested loop over an aggregate: 470 ms for 1,000 batches; now computed once), and
-- a claim took every never-attempted multicast of the page's steps, whatever its message
-- (1,000 batches of 500 for a page of 200; now only those with the page's messages).

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
  fewer as materialized (
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

create or replace function lsd_pick_batches(p jsonb, now_ts timestamptz, lim integer, only_ text[]) returns uuid[]
language plpgsql set plan_cache_mode = force_custom_plan set enable_bitmapscan = off set enable_seqscan = off as $$
declare
  hold_partial boolean := coalesce((p->>'hold_partial')::boolean, false);
  base uuid[];
begin
  base := array(
    select id from outbox_batches
    where status = 'pending' and (lease_until is null or lease_until < now_ts)
      and (p->'tried_since' is null or last_attempt_at is null or last_attempt_at < lsd_ts(p->'tried_since'))
      and (only_ is null or scenario_id = any(only_))
      and not (hold_partial and kind = 'multicast' and cardinality(recipients) < 500 and attempts = 0)
    order by created_at limit lim for update skip locked);
  if hold_partial then
    return base;
  end if;
  -- The rest of each group the page has: the same scenario, step and message.
  return base || array(
    select b.id from outbox_batches b
    where b.status = 'pending' and b.kind = 'multicast' and b.attempts = 0
      and (b.lease_until is null or b.lease_until < now_ts)
      and (b.scenario_id, b.step_id, b.messages) in (
        select g.scenario_id, g.step_id, g.messages from outbox_batches g
        where g.id = any(base) and g.kind = 'multicast' and g.attempts = 0 and g.status = 'pending')
      and b.id <> all(base)
    order by b.created_at limit lim * 4 for update skip locked);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261205000002_merge_cost.sql');
