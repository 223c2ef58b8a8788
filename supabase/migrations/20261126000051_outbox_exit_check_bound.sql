-- line-step-delivery: the outbox claim checks for recipients who left only where something
-- can have changed, within a bound. Migration 20261126000050 checked every recipient of
-- every claimed batch: 200 multicasts of 500 fresh recipients took ~3-4 s to claim on a
-- small machine (statement timeout through the HTTP API: 8 s), though a batch planned in
-- this tick knows everything the tick took in. Now a claim checks only the batches planned
-- before the tick took in its events (left by an earlier tick), at most 20,000 recipients a
-- call, and returns exit events only for recipients whose enrollment finished.

-- Claims pending outbox batches with a lease. A batch that may already have been
-- accepted by LINE (a timeout, a 5xx, a crash mid-send) and is older than the retry-key
-- window is never resent blindly: it is marked needs_review for a person.
--   scenario_ids (optional): only batches of these scenarios.
--   checked_before (optional, ms): batches planned up to this moment (left by an earlier
--     tick: held by the monthly limit, the quota reserve, a crash) are checked for
--     recipients who left since; later ones were planned with all this tick took in.
--   exit_types (optional): {scenario id: [event types of its exit rules]}.
-- What is sent obeys what is known when it is sent. Before a checked batch is leased, the
-- recipients who left since it was planned are dropped (lsd_skip_recipients): an
-- unfollow, an exit recorded on the enrollment, a retired scenario. And for a recipient
-- whose enrollment finished (the batch holds its last step), the events of exit_types
-- taken in since the entry are returned (exit_events), for the tick to apply the
-- scenario's exit rules (then lsd_drop_recipients). Only a batch no attempt of which may
-- have reached LINE changes: a retry must repeat the identical request, so an uncertain
-- batch is sent as it was. The recipients checked per call are bounded (a page of 20,000),
-- so that a claim stays well inside the HTTP API's statement timeout.
create or replace function lsd_claim_batches(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
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

  with leased as (
    update outbox_batches set lease_owner = owner_, lease_until = now_ts + lease, attempts = attempts + 1,
      first_attempt_at = coalesce(first_attempt_at, now_ts), last_attempt_at = now_ts, attempt_started_at = now_ts, updated_at = now_ts
    where id = any(picked_ids) and status = 'pending'
    returning outbox_batches.*)
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
        from jsonb_each(exit_types) where jsonb_typeof(value) = 'array')
      select jsonb_agg(jsonb_build_object('batch_id', d.batch_id, 'line_user_id', d.line_user_id, 'type', ev.type,
               'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties))
      from outbox_batches b
      join types t on t.scenario_id = b.scenario_id
      join deliveries d on d.batch_id = b.id and d.status = 'pending'
      join enrollments e on e.id = d.enrollment_id and e.status = 'finished'
      join events ev on ev.line_user_id = d.line_user_id and ev.occurred_at > e.entered_at and ev.status = 'done' and ev.type = any(t.names)
      where b.id = any(checked) and b.status = 'pending'), '[]'::jsonb) else '[]'::jsonb end);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261126000051_outbox_exit_check_bound.sql');
