-- line-step-delivery: no routine operation destroys state.
--
-- * A run limited to one scenario claims and sends only that scenario's enrollments and
--   batches (lsd_claim_due and lsd_claim_batches take an optional scenario filter).
-- * A scenario whose file is absent is not a retired one: registration reports it as
--   missing (with its last definition, so events are still taken in for it, and how many
--   users are inside), and the tick holds its enrollments and batches until the file is
--   back. Retiring is explicit ("status": "retired"), recorded in scenarios.retired_at.
-- * The outbox obeys exits: a batch no attempt of which may have reached LINE is sent
--   only to the recipients who have not left since it was planned (an unfollow, an exit
--   event, a restart, a retired scenario); the others' deliveries are skipped, with the
--   reason. An uncertain batch is resent as it was (a retry must be identical).

alter table scenarios add column if not exists retired_at timestamptz;
comment on column scenarios.retired_at is 'When a definition with "status": "retired" was first registered: its enrollments end and nobody enters. A registered scenario with no file and no retired_at is missing: its users are held until the file is back.';

-- Scenarios that an earlier release ended when their file disappeared (every enrollment
-- exited with "the scenario was removed") count as retired, so that an upgrade does not
-- report them as missing files. A file that is still there clears this at its next run.
update scenarios s set retired_at = s.updated_at
where s.retired_at is null
  and s.scenario_id in (select distinct scenario_id from enrollments where exit_reason = 'the scenario was removed')
  and not exists (select 1 from enrollments e where e.scenario_id = s.scenario_id and e.status = 'active');

-- A batch whose every recipient left before it was sent is never sent: status skipped.
alter table outbox_batches drop constraint if exists outbox_batches_status;
alter table outbox_batches add constraint outbox_batches_status
  check (status in ('pending', 'sent', 'failed', 'needs_review', 'skipped')) not valid;
alter table outbox_batches validate constraint outbox_batches_status;
comment on column outbox_batches.status is 'pending: to send; sent; failed: LINE refused it (see error); needs_review: still pending past the retry-key window, so a resend could duplicate: a person decides; skipped: every recipient left before it was sent (deliveries.reason says why).';

-- Registers the scenario definitions of this run; moves enrollments planned with an older
-- definition to "due now" (a page at a time), so a retimed step applies at once.
--   present: the ids of every scenario file of this run (default: the ones registered). A
--            run limited to one scenario registers only that one but names them all, so
--            the others are neither updated nor taken for missing.
-- Returns, besides each registered scenario's first run:
--   missing: registered scenarios with no file and not retired, with their last
--            definition (events are still routed by it) and how many users are inside;
--   retired_absent: retired scenarios with no file that still have users inside (the
--            tick ends their enrollments).
create or replace function lsd_register_scenarios(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  lim integer := coalesce((p->>'reschedule_limit')::integer, 5000);
  dry boolean := coalesce((p->>'dry')::boolean, false);
  present text[] := coalesce((select array_agg(x) from jsonb_array_elements_text(p->'present') x),
                             (select array_agg(x->>'id') from jsonb_array_elements(p->'scenarios') x), '{}');
  s jsonb;
  moved integer;
  total_moved integer := 0;
  out jsonb := '[]'::jsonb;
  row_ scenarios;
begin
  if dry then
    -- Plan-only runs write nothing: a scenario not seen before counts as switched on now.
    out := coalesce((
      select jsonb_agg(jsonb_build_object('id', x->>'id', 'activated_at', coalesce(lsd_ms(sc.activated_at), (p->'now')::numeric)))
      from jsonb_array_elements(p->'scenarios') x left join scenarios sc on sc.scenario_id = x->>'id'), '[]'::jsonb);
  else
    for s in select * from jsonb_array_elements(p->'scenarios') loop
      insert into scenario_versions (scenario_id, hash, version, definition, first_seen_at)
      values (s->>'id', s->>'hash', (s->>'version')::integer, s->'definition', now_ts)
      on conflict do nothing;
      insert into scenarios (scenario_id, current_hash, version, activated_at, rescheduled_hash, updated_at)
      values (s->>'id', s->>'hash', (s->>'version')::integer, now_ts, s->>'hash', now_ts)
      on conflict (scenario_id) do update
        set current_hash = excluded.current_hash, version = excluded.version, updated_at = excluded.updated_at
        where scenarios.current_hash <> excluded.current_hash;
      -- Retired is what the file says now (an earlier retirement is undone by a file that is active again).
      if s->'definition'->>'status' = 'retired' then
        update scenarios set retired_at = now_ts where scenario_id = s->>'id' and retired_at is null;
      else
        update scenarios set retired_at = null where scenario_id = s->>'id' and retired_at is not null;
      end if;
      select * into row_ from scenarios where scenario_id = s->>'id';
      if row_.rescheduled_hash is distinct from row_.current_hash then
        update enrollments set due_at = now_ts, updated_at = now_ts
        where id in (
          select id from enrollments
          where status = 'active' and scenario_id = row_.scenario_id and scenario_hash <> row_.current_hash and due_at > now_ts
          limit lim for update skip locked);
        get diagnostics moved = row_count;
        total_moved := total_moved + moved;
        if moved < lim then
          update scenarios set rescheduled_hash = current_hash where scenario_id = row_.scenario_id;
        end if;
      end if;
      out := out || jsonb_build_object('id', row_.scenario_id, 'activated_at', lsd_ms(row_.activated_at));
    end loop;

    -- A retired scenario whose file is gone too: its users are brought due, a page at a
    -- time, so the tick ends their enrollments.
    for row_ in
      select * from scenarios
      where scenario_id <> all(present) and retired_at is not null and rescheduled_hash is distinct from current_hash
    loop
      update enrollments set due_at = now_ts, updated_at = now_ts
      where id in (
        select id from enrollments
        where status = 'active' and scenario_id = row_.scenario_id and due_at > now_ts
        limit lim for update skip locked);
      get diagnostics moved = row_count;
      total_moved := total_moved + moved;
      if moved < lim then
        update scenarios set rescheduled_hash = current_hash where scenario_id = row_.scenario_id;
      end if;
    end loop;
  end if;

  return jsonb_build_object(
    'scenarios', out,
    'rescheduled', total_moved,
    'missing', coalesce((
      select jsonb_agg(jsonb_build_object('id', sc.scenario_id, 'hash', sc.current_hash, 'definition', v.definition,
               'activated_at', lsd_ms(sc.activated_at), 'users_inside', inside.n) order by sc.scenario_id)
      from scenarios sc
      left join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
      cross join lateral (select count(*) as n from enrollments e where e.scenario_id = sc.scenario_id and e.status = 'active') inside
      where sc.scenario_id <> all(present) and sc.retired_at is null), '[]'::jsonb),
    'retired_absent', coalesce((
      select jsonb_agg(jsonb_build_object('id', sc.scenario_id, 'users_inside', inside.n) order by sc.scenario_id)
      from scenarios sc
      cross join lateral (select count(*) as n from enrollments e where e.scenario_id = sc.scenario_id and e.status = 'active') inside
      where sc.scenario_id <> all(present) and sc.retired_at is not null and inside.n > 0), '[]'::jsonb));
end $$;

-- Claims a page of due enrollments with a lease, with everything the planner needs.
-- scenario_ids (optional): only enrollments of these scenarios (a run limited to one
-- scenario; the enrollments of a scenario whose file is missing are held).
create or replace function lsd_claim_due(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  lease interval := make_interval(secs => coalesce((p->>'lease_seconds')::integer, 120));
  lim integer := coalesce((p->>'limit')::integer, 1000);
  shard_count integer := coalesce((p->>'shard_count')::integer, 1);
  shard_index integer := coalesce((p->>'shard_index')::integer, 0);
  types_ text[] := coalesce((select array_agg(t) from jsonb_array_elements_text(p->'event_types') t), '{}');
  only_ text[] := case when jsonb_typeof(p->'scenario_ids') = 'array'
                       then coalesce((select array_agg(t) from jsonb_array_elements_text(p->'scenario_ids') t), '{}') end;
  claimed jsonb;
  users_ text[];
  since timestamptz;
begin
  with due as (
    select id from enrollments
    where status = 'active' and due_at <= now_ts and (lease_until is null or lease_until < now_ts)
      and (shard_count <= 1 or shard_key % shard_count = shard_index)
      and (only_ is null or scenario_id = any(only_))
    order by due_at limit lim for update skip locked),
  leased as (
    update enrollments set lease_owner = owner_, lease_until = now_ts + lease
    from due where enrollments.id = due.id
    returning enrollments.*)
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', id, 'scenario_id', scenario_id, 'line_user_id', line_user_id, 'step_id', step_id,
           'entered_at', lsd_ms(entered_at), 'previous_at', lsd_ms(previous_at), 'wait_started_at', lsd_ms(wait_started_at),
           'trigger', trigger, 'scenario_hash', scenario_hash, 'converted', converted_at is not null)), '[]'::jsonb),
         coalesce(array_agg(distinct line_user_id), '{}'), min(entered_at)
    into claimed, users_, since
  from leased;

  return jsonb_build_object(
    'enrollments', claimed,
    'users', lsd_user_facts(users_),
    'events', coalesce((select jsonb_agg(jsonb_build_object('id', ev.id::text, 'line_user_id', ev.line_user_id, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties) order by ev.occurred_at)
                        from events ev where ev.line_user_id = any(users_) and ev.occurred_at >= since and ev.type = any(types_) and ev.status <> 'set_aside'), '[]'::jsonb),
    -- For the frequency cap: sends per claimed user since cap_since.
    'sent_counts', case when p ? 'cap_since' then coalesce((
      select jsonb_object_agg(d.line_user_id, d.n) from (
        select line_user_id, count(*) as n from deliveries
        where line_user_id = any(users_) and kind = 'send' and created_at >= lsd_ts(p->'cap_since')
        group by line_user_id) d), '{}'::jsonb) else '{}'::jsonb end,
    'previous_definitions', coalesce((select jsonb_agg(jsonb_build_object('scenario_id', v.scenario_id, 'hash', v.hash, 'definition', v.definition))
                                      from scenario_versions v
                                      where (v.scenario_id, v.hash) in (select x->>'scenario_id', x->>'scenario_hash' from jsonb_array_elements(claimed) x)
                                        and v.hash <> (select current_hash from scenarios s where s.scenario_id = v.scenario_id)), '[]'::jsonb));
end $$;

-- Drops recipients from pending batches, before they are sent: their deliveries become
-- skipped with the reason, and the batch goes to the rest (a push when one is left), or is
-- skipped when nobody is left. drops: [{batch_id, line_user_id, reason}], of batches the
-- caller holds locked and no attempt of which may have reached LINE. Returns the batches
-- changed and what was dropped per scenario, step and reason.
create or replace function lsd_skip_recipients(drops jsonb, now_ts timestamptz) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  changed jsonb;
  dropped jsonb;
begin
  with x as materialized (
    select * from jsonb_to_recordset(drops) as x(batch_id uuid, line_user_id text, reason text)),
  skipped as (
    update deliveries d set status = 'skipped', reason = x.reason
    from x where d.batch_id = x.batch_id and d.line_user_id = x.line_user_id and d.status = 'pending'
    returning d.batch_id, d.line_user_id, d.scenario_id, d.step_id, x.reason),
  per_batch as (
    select batch_id, count(*)::integer as n, array_agg(line_user_id) as users from skipped group by batch_id),
  shrunk as (
    update outbox_batches b set
      recipients = case when cardinality(b.recipients) > g.n
                        then array(select r from unnest(b.recipients) r where r <> all(g.users)) else b.recipients end,
      kind = case when cardinality(b.recipients) - g.n = 1 then 'push' else b.kind end,
      status = case when cardinality(b.recipients) > g.n then b.status else 'skipped' end,
      error = case when cardinality(b.recipients) > g.n then b.error
                   else jsonb_build_object('message', 'every recipient left before it was sent') end,
      lease_owner = case when cardinality(b.recipients) > g.n then b.lease_owner end,
      lease_until = case when cardinality(b.recipients) > g.n then b.lease_until end,
      attempt_started_at = case when cardinality(b.recipients) > g.n then b.attempt_started_at end,
      updated_at = now_ts
    from per_batch g where b.id = g.batch_id
    returning b.id, b.recipients, b.kind, b.status)
  select (select coalesce(jsonb_agg(jsonb_build_object('id', id, 'recipients', to_jsonb(recipients), 'kind', kind, 'status', status)), '[]'::jsonb) from shrunk),
         (select coalesce(jsonb_agg(jsonb_build_object('scenario_id', scenario_id, 'step_id', step_id, 'reason', reason, 'count', n)), '[]'::jsonb)
          from (select scenario_id, step_id, reason, count(*) as n from skipped group by scenario_id, step_id, reason) s)
    into changed, dropped;
  return jsonb_build_object('batches', changed, 'skipped', dropped);
end $$;

-- Claims pending outbox batches with a lease. A batch that may already have been
-- accepted by LINE (a timeout, a 5xx, a crash mid-send) and is older than the retry-key
-- window is never resent blindly: it is marked needs_review for a person.
--   scenario_ids (optional): only batches of these scenarios.
--   exit_types (optional): {scenario id: [event types of its exit rules]}.
-- What is sent obeys what is known when it is sent. Before a batch is leased, the
-- recipients who left since it was planned are dropped (lsd_skip_recipients): an
-- unfollow, an exit recorded on the enrollment, a retired scenario. And the events of
-- exit_types that happened to a recipient since the entry are returned (exit_events), so
-- the tick can apply the scenario's exit rules to the rest, also to an enrollment that
-- finished with this very step (lsd_drop_recipients). Only a batch no attempt of which
-- may have reached LINE changes: a retry must repeat the identical request, so an
-- uncertain batch is sent as it was.
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
  exit_types jsonb := case when jsonb_typeof(p->'exit_types') = 'object' then p->'exit_types' else '{}'::jsonb end;
  picked_ids uuid[];
  changeable uuid[];
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
  -- Never uncertain and no attempt in progress: no attempt of these may have reached LINE.
  changeable := array(select id from outbox_batches where id = any(picked_ids) and uncertain_since is null and attempt_started_at is null);

  -- Only leaving on the user's account counts: an unfollow, an exit event, a new trigger
  -- that restarted the scenario, or a retired scenario. (An enrollment that the engine
  -- ended at a later step, say for a date that is not a date, still gets this step.)
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
    where b.id = any(changeable)) g
  where g.reason is not null;
  if jsonb_array_length(drops) > 0 then
    dropped := lsd_skip_recipients(drops, now_ts);
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
    'exit_events', coalesce((
      select jsonb_agg(jsonb_build_object('batch_id', d.batch_id, 'line_user_id', d.line_user_id, 'type', ev.type,
               'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties))
      from outbox_batches b
      join deliveries d on d.batch_id = b.id and d.status = 'pending'
      join enrollments e on e.id = d.enrollment_id
      join events ev on ev.line_user_id = d.line_user_id and ev.occurred_at > e.entered_at and ev.status <> 'set_aside'
        and ev.type in (select jsonb_array_elements_text(exit_types->b.scenario_id))
      where b.id = any(changeable) and b.status = 'pending' and exit_types ? b.scenario_id), '[]'::jsonb));
end $$;

-- Records what LINE answered for each batch: sent (200, or 409 for a repeated retry
-- key), failed (LINE refused it), deferred (not accepted: try again later) or uncertain
-- (no answer: a timeout or a 5xx, LINE may have accepted it). The deliveries of the
-- recipients who were dropped before sending stay skipped. Once an attempt may have been
-- accepted, the batch stays uncertain whatever a later attempt is answered (a 429, a 401,
-- a deferral): only a 200 or a 409 (sent) settles it, or the review after the window.
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
begin
  with r as materialized (
    select * from jsonb_to_recordset(coalesce(p->'results', '[]')) as x(batch_id uuid, outcome text, request_id text, error jsonb)),
  updated as (
    update outbox_batches b set
      status = case r.outcome when 'sent' then 'sent' when 'failed' then 'failed' else 'pending' end,
      sent_at = case when r.outcome = 'sent' then now_ts end,
      line_request_id = coalesce(r.request_id, b.line_request_id),
      error = case when r.outcome = 'sent' then null else r.error end,
      uncertain_since = case when r.outcome = 'uncertain' then coalesce(b.uncertain_since, b.attempt_started_at, now_ts) else b.uncertain_since end,
      attempt_started_at = null, lease_owner = null, lease_until = null, updated_at = now_ts
    from r where b.id = any(ids) and b.id = r.batch_id and b.lease_owner = owner_ and b.status = 'pending'
    returning b.id, r.outcome)
  update deliveries d set
    status = case u.outcome when 'sent' then 'sent' when 'failed' then 'failed' else 'pending' end,
    sent_at = case when u.outcome = 'sent' then now_ts end
  from updated u where d.batch_id = u.id and d.status = 'pending';
  get diagnostics n = row_count;
  return jsonb_build_object('deliveries', n);
end $$;

-- Drops recipients of batches this owner has just claimed, when the scenario's exit rules
-- say they left (see lsd_claim_batches): drops [{batch_id, line_user_id, reason}].
create or replace function lsd_drop_recipients(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owned uuid[];
begin
  -- Still leased to this owner, never uncertain: only then may the request change.
  owned := array(
    select b.id from outbox_batches b
    where b.id in (select (x->>'batch_id')::uuid from jsonb_array_elements(coalesce(p->'drops', '[]'::jsonb)) x)
      and b.lease_owner = p->>'owner' and b.status = 'pending' and b.uncertain_since is null
    for update);
  return lsd_skip_recipients(coalesce((
    select jsonb_agg(x) from jsonb_array_elements(coalesce(p->'drops', '[]'::jsonb)) x where (x->>'batch_id')::uuid = any(owned)), '[]'::jsonb), now_ts);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261126000050_operations_hold.sql');
