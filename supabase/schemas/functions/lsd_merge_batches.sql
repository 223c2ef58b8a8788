-- As in 20261201000001, with three costs taken out that grew with the outbox or the page:
-- the page's batches are read by primary key before any filter (the status filter let the
-- planner scan every pending batch for each page), each group's target batches are an
-- array indexed by position (a join on a computed position was a nested loop over the page
-- for each recipient: 37,000 comparisons for 200 batches), and the updates name their rows
-- by key.
CREATE OR REPLACE FUNCTION public.lsd_merge_batches(ids uuid[], now_ts timestamp with time zone)
 RETURNS uuid[]
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
end $function$;
