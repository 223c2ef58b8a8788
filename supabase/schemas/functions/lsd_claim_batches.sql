-- Claims a page of pending batches, as in 20261202000001; the page is picked by
-- lsd_pick_batches (so that a change to what is picked is a change to that function alone).
CREATE OR REPLACE FUNCTION public.lsd_claim_batches(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
  stuck_ids uuid[];
  old_ids uuid[];
begin
  -- An attempt that never recorded its result (the process died) counts as uncertain.
  -- (A join on the primary key: a semi-join here was planned as two sequential scans while
  -- the table's statistics said it was empty, quadratic once it filled within one tick.)
  -- (The rows found and locked first, then updated by key: joined to the update, the
  -- planner read every batch through the primary key for each call, trusting statistics
  -- that said the outbox was empty.)
  stuck_ids := array(
    select id from outbox_batches
    where status = 'pending' and attempt_started_at is not null and lease_until < now_ts
    limit 1000 for update skip locked);
  if cardinality(stuck_ids) > 0 then
    update outbox_batches b set uncertain_since = coalesce(b.uncertain_since, b.attempt_started_at), attempt_started_at = null
    where b.id = any(stuck_ids);
  end if;

  old_ids := array(
    select id from outbox_batches
    where status = 'pending' and uncertain_since < now_ts - win and (lease_until is null or lease_until < now_ts)
    limit 1000 for update skip locked);
  reviewed := 0;
  if cardinality(old_ids) > 0 then
    with marked as (
      update outbox_batches set status = 'needs_review', lease_owner = null, updated_at = now_ts where id = any(old_ids) returning id),
    flagged as (
      update deliveries set status = 'needs_review' where batch_id in (select id from marked) and status = 'pending' returning 1)
    select count(*) into reviewed from marked;
  end if;

  -- tried_since: batches this tick already tried (deferred ones wait for the next tick).
  picked_ids := lsd_pick_batches(p, now_ts, lim, only_);
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

  -- Sent in the order planned; of one commit's batches (the same moment), the larger first:
  -- when the monthly quota runs short, a multicast of 500 goes before one of 200, every time.
  with keyed as materialized (
    select id, status from outbox_batches where id = any(picked_ids)),
  leased as (
    update outbox_batches b set lease_owner = owner_, lease_until = now_ts + lease, attempts = b.attempts + 1,
      first_attempt_at = coalesce(b.first_attempt_at, now_ts), last_attempt_at = now_ts, attempt_started_at = now_ts, updated_at = now_ts
    from keyed k where b.id = any(picked_ids) and b.id = k.id and k.status = 'pending'
    returning b.*)
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'scenario_id', scenario_id, 'step_id', step_id, 'kind', kind, 'messages', messages,
           'recipients', to_jsonb(recipients), 'aggregation_unit', aggregation_unit, 'attempts', attempts, 'created_at', lsd_ms(created_at)) order by created_at, cardinality(recipients) desc, id), '[]'::jsonb)
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
end $function$;
