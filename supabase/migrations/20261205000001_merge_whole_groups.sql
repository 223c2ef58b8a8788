-- line-step-delivery: a merging claim packs a step's whole group, not just the part of it
-- that fell in its page.
--
-- The claim merges the never-attempted batches of one step's identical message that are in
-- its page (lsd_merge_batches). A page is 200 batches in planned order, so a group held back
-- while planning (20261202000002) could straddle two pages and go as 500 + 500 + 180 + 120
-- instead of 500 + 500 + 300. Taking larger pages instead (1,000 batches) stalled the send
-- pipeline on its claims: 10,000 pushes over a 100 ms round trip fell from 90% to 60% of
-- LINE's rate. Now a claim that does not hold partial multicasts back also takes the other
-- never-attempted, unleased multicasts of the groups its page has (up to four pages more),
-- so each group is merged whole; a page of pushes stays a page.

create index if not exists outbox_open_multicasts on outbox_batches (scenario_id, step_id, created_at)
  where status = 'pending' and kind = 'multicast' and attempts = 0;

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
  -- The rest of each group the page has (the merge packs by scenario, step and message; a
  -- sibling with another message is taken too, and simply not merged).
  return base || array(
    select b.id from outbox_batches b
    where b.status = 'pending' and b.kind = 'multicast' and b.attempts = 0
      and (b.lease_until is null or b.lease_until < now_ts)
      and (b.scenario_id, b.step_id) in (
        select g.scenario_id, g.step_id from outbox_batches g
        where g.id = any(base) and g.kind = 'multicast' and g.attempts = 0 and g.status = 'pending')
      and b.id <> all(base)
    order by b.created_at limit lim * 4 for update skip locked);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261205000001_merge_whole_groups.sql');
