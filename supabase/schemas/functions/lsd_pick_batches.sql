-- The page a claim takes: pending, not leased, not already tried in this tick, in the
-- order planned; with hold_partial, never-attempted multicasts of fewer than 500 users wait.
CREATE OR REPLACE FUNCTION public.lsd_pick_batches(p jsonb, now_ts timestamp with time zone, lim integer, only_ text[])
 RETURNS uuid[]
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
end $function$;
