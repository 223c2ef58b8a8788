-- line-step-delivery: the engine's SQL functions. Each takes one jsonb and returns one
-- jsonb, runs in one transaction, and does a bounded page of work, so that each step of
-- a tick is one round trip whether it goes through Supabase's HTTP API (rpc) or a direct
-- connection. Instants cross the boundary as epoch milliseconds.
--
-- Every function plans its statements afresh on each call (plan_cache_mode). A pooled
-- connection (PostgREST's) otherwise keeps a generic plan made while a queue table was
-- empty, and a burst that fills it within a tick then runs as a quadratic nested loop
-- (seen in the store benchmark: 200 batches claimed in 48 ms instead of 2 ms).

create index if not exists events_set_aside on events (inserted_at) where status = 'set_aside';
alter table scenarios add column if not exists rescheduled_hash text;
alter table outbox_batches add column if not exists attempt_started_at timestamptz;
alter table outbox_batches add column if not exists uncertain_since timestamptz;
create index if not exists outbox_attempting on outbox_batches (lease_until) where status = 'pending' and attempt_started_at is not null;

-- A delivery points at its enrollment and its batch. Foreign keys checked the commit's
-- rows one at a time (a fifth of the time a tick takes to plan 10,000 enrollments); the
-- engine writes deliveries only in the statement that advances their enrollment and
-- inserts their batch, so what is left to guard is a delete, refused here set-based
-- while deliveries still point at the row.
alter table deliveries drop constraint if exists deliveries_batch_id_fkey;
alter table deliveries drop constraint if exists deliveries_enrollment_id_fkey;
create or replace function lsd_keep_deliveries_linked() returns trigger
language plpgsql as $$
begin
  if tg_table_name = 'enrollments' and exists (select 1 from gone g join deliveries d on d.enrollment_id = g.id) then
    raise foreign_key_violation using message = 'these enrollments have deliveries: delete the deliveries first (they record what each user was sent)';
  end if;
  if tg_table_name = 'outbox_batches' and exists (select 1 from gone g join deliveries d on d.batch_id = g.id) then
    raise foreign_key_violation using message = 'these outbox batches have deliveries: delete the deliveries first (they record what each user was sent)';
  end if;
  return null;
end $$;
drop trigger if exists enrollments_keep_deliveries on enrollments;
create trigger enrollments_keep_deliveries after delete on enrollments referencing old table as gone
  for each statement execute function lsd_keep_deliveries_linked();
drop trigger if exists outbox_batches_keep_deliveries on outbox_batches;
create trigger outbox_batches_keep_deliveries after delete on outbox_batches referencing old table as gone
  for each statement execute function lsd_keep_deliveries_linked();

create or replace function lsd_ts(ms jsonb) returns timestamptz
language sql immutable as $$
  select case when ms is null or jsonb_typeof(ms) = 'null' then null
              else to_timestamp((ms #>> '{}')::double precision / 1000.0) end
$$;

-- Stable, as extract(epoch from timestamptz) is: a function declared more strictly than
-- its body is not inlined, and a call per row cost the claim a fifth of its time.
create or replace function lsd_ms(t timestamptz) returns numeric
language sql stable as $$
  select case when t is null or t = 'infinity'::timestamptz or t = '-infinity'::timestamptz then null
              else floor(extract(epoch from t) * 1000) end
$$;

create or replace function lsd_shard_key(line_user_id text) returns integer
language sql immutable as $$ select abs(hashtext(line_user_id) % 1024) $$;

-- What the planner and routing know of users: follow state, attributes (with "linked"
-- derived from the member id) and answers.
create or replace function lsd_user_facts(users_ text[]) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'line_user_id', u.line_user_id, 'following', u.following,
           'attributes', u.attributes || jsonb_build_object('linked', u.member_id is not null or coalesce((u.attributes->>'linked')::boolean, false)),
           'answers', u.answers)), '[]'::jsonb)
  from line_users u where u.line_user_id = any(users_)
$$;

-- Registers the scenario definitions of this run; moves enrollments planned with an older
-- definition to "due now" (a page at a time), so a retimed step applies at once.
create or replace function lsd_register_scenarios(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  lim integer := coalesce((p->>'reschedule_limit')::integer, 5000);
  s jsonb;
  moved integer;
  total_moved integer := 0;
  out jsonb := '[]'::jsonb;
  row_ scenarios;
begin
  if coalesce((p->>'dry')::boolean, false) then
    -- Plan-only runs write nothing: a scenario not seen before counts as switched on now.
    return jsonb_build_object('rescheduled', 0, 'scenarios', coalesce((
      select jsonb_agg(jsonb_build_object('id', x->>'id', 'activated_at', coalesce(lsd_ms(sc.activated_at), (p->'now')::numeric)))
      from jsonb_array_elements(p->'scenarios') x left join scenarios sc on sc.scenario_id = x->>'id'), '[]'::jsonb));
  end if;
  for s in select * from jsonb_array_elements(p->'scenarios') loop
    insert into scenario_versions (scenario_id, hash, version, definition, first_seen_at)
    values (s->>'id', s->>'hash', (s->>'version')::integer, s->'definition', now_ts)
    on conflict do nothing;
    insert into scenarios (scenario_id, current_hash, version, activated_at, rescheduled_hash, updated_at)
    values (s->>'id', s->>'hash', (s->>'version')::integer, now_ts, s->>'hash', now_ts)
    on conflict (scenario_id) do update
      set current_hash = excluded.current_hash, version = excluded.version, updated_at = excluded.updated_at
      where scenarios.current_hash <> excluded.current_hash;
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
  return jsonb_build_object('scenarios', out, 'rescheduled', total_moved);
end $$;

-- Takes a page of new events with a lease: resolves member ids, sets aside malformed
-- rows with the reason, applies what events say about users (follow state, links,
-- answers, attributes), and returns the events with the facts routing needs.
create or replace function lsd_ingest_claim(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  lease interval := make_interval(secs => coalesce((p->>'lease_seconds')::integer, 120));
  lim integer := coalesce((p->>'limit')::integer, 500);
  e events;
  resolved text;
  reason text;
  taken jsonb := '[]'::jsonb;
  users_ text[] := '{}';
  set_aside_count integer := 0;
  waiting_count integer := 0;
begin
  -- Member-id events whose link never came: set aside after 30 days, with the reason.
  update events set status = 'set_aside', status_reason = 'member_id was never linked to a LINE user within 30 days', processed_at = now_ts
  where id in (select id from events where status = 'waiting_link' and inserted_at < now_ts - interval '30 days' limit 1000);

  for e in
    with picked as (
      select id from events
      where status = 'new' and (lease_until is null or lease_until < now_ts)
      order by id limit lim for update skip locked)
    update events set lease_owner = owner_, lease_until = now_ts + lease
    from picked where events.id = picked.id
    returning events.*
  loop
    -- Malformed rows are set aside with the reason: checked before a member id is looked
    -- up, and after it, on the LINE user id the event ends up with.
    reason := case
      when e.type !~ '^[a-z][a-z0-9_]{0,63}$' then 'type must be lower snake case, like cart_abandoned'
      when jsonb_typeof(e.properties) <> 'object' then 'properties must be a JSON object'
    end;
    resolved := e.line_user_id;
    if reason is null and resolved is null and e.member_id is not null then
      select line_user_id into resolved from line_users where member_id = e.member_id;
      if resolved is null then
        update events set status = 'waiting_link', status_reason = 'no LINE user is linked to this member_id yet', lease_owner = null, lease_until = null where id = e.id;
        waiting_count := waiting_count + 1; continue;
      end if;
      update events set line_user_id = resolved where id = e.id;
    end if;
    reason := coalesce(reason, case
      when resolved is null then 'neither line_user_id nor member_id is given'
      -- One malformed id in a multicast makes LINE refuse it for all 500 recipients.
      when resolved !~ '^U[0-9a-f]{32}$' then 'line_user_id must be a LINE user id: "U" and 32 lowercase hex digits'
    end);
    if reason is not null then
      update events set status = 'set_aside', status_reason = reason, processed_at = now_ts, lease_owner = null, lease_until = null where id = e.id;
      set_aside_count := set_aside_count + 1; continue;
    end if;

    insert into line_users (line_user_id, following, created_at, updated_at) values (resolved, true, now_ts, now_ts)
    on conflict (line_user_id) do nothing;
    case e.type
      when 'follow' then
        update line_users set following = true, followed_at = e.occurred_at, follow_route = coalesce(e.properties->>'route', follow_route), updated_at = now_ts
        where line_user_id = resolved and (unfollowed_at is null or unfollowed_at <= e.occurred_at);
      when 'unfollow' then
        update line_users set following = false, unfollowed_at = e.occurred_at, updated_at = now_ts
        where line_user_id = resolved and (followed_at is null or followed_at <= e.occurred_at);
      when 'account_linked' then
        if e.properties ? 'memberId' then
          update line_users set member_id = e.properties->>'memberId', attributes = attributes || '{"linked": true}'::jsonb, updated_at = now_ts
          where line_user_id = resolved;
          -- Events that waited for this link are taken in now.
          update events set status = 'new', line_user_id = resolved, status_reason = null, lease_owner = null, lease_until = null
          where status = 'waiting_link' and member_id = e.properties->>'memberId';
        end if;
      when 'profile_updated' then
        update line_users set attributes = attributes || coalesce(case when jsonb_typeof(e.properties->'attributes') = 'object' then e.properties->'attributes' end, e.properties), updated_at = now_ts
        where line_user_id = resolved;
      when 'survey_answered' then
        if e.properties ? 'question' then
          update line_users set answers = answers || jsonb_build_object(e.properties->>'question', e.properties->'answer'), updated_at = now_ts
          where line_user_id = resolved;
        end if;
      else null;
    end case;
    taken := taken || jsonb_build_object('id', e.id::text, 'line_user_id', resolved, 'type', e.type, 'occurred_at', lsd_ms(e.occurred_at), 'properties', e.properties);
    users_ := users_ || resolved;
  end loop;

  return jsonb_build_object(
    'events', taken,
    'set_aside', set_aside_count,
    'waiting_link', waiting_count,
    'users', lsd_user_facts(users_),
    'enrollments', coalesce((select jsonb_agg(jsonb_build_object('id', x.id, 'scenario_id', x.scenario_id, 'line_user_id', x.line_user_id, 'status', x.status, 'entered_at', lsd_ms(x.entered_at), 'waiting_for', x.waiting_for))
                             from (select distinct on (line_user_id, scenario_id, status = 'active') *
                                   from enrollments where line_user_id = any(users_)
                                   order by line_user_id, scenario_id, status = 'active', entered_at desc) x
                             -- every active one (at most one per scenario), and one ended one per scenario for re-entry rules
                            ), '[]'::jsonb));
end $$;

-- Applies what routing decided for a page of events, in one transaction: enrollments
-- created, ended or woken, and the events marked done (only if the lease is still ours).
create or replace function lsd_ingest_commit(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_exit integer; n_enroll integer; n_wake integer; n_done integer;
begin
  update enrollments set status = 'exited', exit_reason = x.reason, ended_at = now_ts, due_at = null, lease_owner = null, lease_until = null, updated_at = now_ts
  from jsonb_to_recordset(coalesce(p->'exit', '[]')) as x(enrollment_id uuid, reason text)
  where enrollments.id = x.enrollment_id and enrollments.status = 'active';
  get diagnostics n_exit = row_count;

  -- An enrollment that a later event of the same page already ended is stored as ended
  -- (re-entry rules still see it).
  insert into enrollments (scenario_id, line_user_id, status, exit_reason, ended_at, step_id, entered_at, previous_at, due_at, trigger, trigger_event_id, scenario_hash, shard_key, created_at, updated_at)
  select x.scenario_id, x.line_user_id, coalesce(x.status, 'active'), x.exit_reason, case when x.status = 'exited' then now_ts end,
         x.step_id, lsd_ts(x.entered_at), lsd_ts(x.entered_at), case when coalesce(x.status, 'active') = 'active' then lsd_ts(x.entered_at) end,
         coalesce(x.trigger, '{}'), x.trigger_event_id, x.scenario_hash, lsd_shard_key(x.line_user_id), now_ts, now_ts
  from jsonb_to_recordset(coalesce(p->'enroll', '[]')) as x(scenario_id text, line_user_id text, status text, exit_reason text, step_id text, entered_at jsonb, trigger jsonb, trigger_event_id bigint, scenario_hash text)
  on conflict (scenario_id, line_user_id) where status = 'active' do nothing;
  get diagnostics n_enroll = row_count;

  update enrollments set due_at = least(due_at, now_ts), updated_at = now_ts
  where id in (select x::uuid from jsonb_array_elements_text(coalesce(p->'wake', '[]'::jsonb)) x) and status = 'active';
  get diagnostics n_wake = row_count;

  update events set status = 'done', processed_at = now_ts, lease_owner = null, lease_until = null
  where id in (select x::bigint from jsonb_array_elements_text(coalesce(p->'done', '[]'::jsonb)) x) and lease_owner = owner_ and status = 'new';
  get diagnostics n_done = row_count;

  return jsonb_build_object('exited', n_exit, 'enrolled', n_enroll, 'woken', n_wake, 'done', n_done);
end $$;

-- Claims a page of due enrollments with a lease, with everything the planner needs.
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
  claimed jsonb;
  users_ text[];
  since timestamptz;
begin
  with due as (
    select id from enrollments
    where status = 'active' and due_at <= now_ts and (lease_until is null or lease_until < now_ts)
      and (shard_count <= 1 or shard_key % shard_count = shard_index)
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

-- Commits the plans for claimed enrollments in one transaction: outbox batches and
-- skipped-step records written, enrollments advanced. A plan whose enrollment is no
-- longer leased to this owner (the lease ran out and another tick took it) is dropped.
create or replace function lsd_commit_plans(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_owned integer;
  n_batches integer;
  n_plans integer := jsonb_array_length(coalesce(p->'plans', '[]'));
begin
  -- One statement: the enrollments still leased to this owner are advanced, and only
  -- their decisions are written. The deliveries that are new (a step already decided for
  -- an enrollment at that moment is not sent again) make up each batch's recipients. The
  -- batch insert and its deliveries are one statement, so the deferred foreign key is
  -- checked once both rows exist.
  with owned as (
    update enrollments e set
      status = x.status,
      step_id = x.step_id,
      previous_at = lsd_ts(x.previous_at),
      wait_started_at = lsd_ts(x.wait_started_at),
      waiting_for = x.waiting_for,
      due_at = case when x.status <> 'active' then null when x.due_at is null or jsonb_typeof(x.due_at) = 'null' then 'infinity'::timestamptz else lsd_ts(x.due_at) end,
      scenario_hash = x.scenario_hash,
      converted_at = coalesce(e.converted_at, lsd_ts(x.converted_at)),
      exit_reason = x.exit_reason,
      ended_at = case when x.status <> 'active' then now_ts end,
      lease_owner = null, lease_until = null, updated_at = now_ts
    from jsonb_to_recordset(coalesce(p->'plans', '[]')) as x(id uuid, status text, step_id text, previous_at jsonb, wait_started_at jsonb, waiting_for text, due_at jsonb, scenario_hash text, converted_at jsonb, exit_reason text)
    where e.id = x.id and e.lease_owner = owner_ and e.status = 'active'
    returning e.id),
  skipped as (
    insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, reason, created_at)
    select x.enrollment_id, x.scenario_id, x.step_id, x.line_user_id, x.kind, lsd_ts(x.due_at), 'skipped', x.reason, now_ts
    from jsonb_to_recordset(coalesce(p->'skipped', '[]')) as x(enrollment_id uuid, scenario_id text, step_id text, line_user_id text, kind text, due_at jsonb, reason text)
    join owned o on o.id = x.enrollment_id
    on conflict on constraint deliveries_once do nothing
    returning 1),
  b as (
    select * from jsonb_to_recordset(coalesce(p->'batches', '[]')) as x(id uuid, scenario_id text, step_id text, kind text, messages jsonb, aggregation_unit text, members jsonb)),
  m as (
    select b.id as batch_id, b.scenario_id, b.step_id, o.id as enrollment_id, mm->>'line_user_id' as line_user_id, lsd_ts(mm->'due_at') as due_at
    from b cross join lateral jsonb_array_elements(b.members) mm
    join owned o on o.id = (mm->>'enrollment_id')::uuid),
  added as (
    insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, batch_id, status, created_at)
    select enrollment_id, scenario_id, step_id, line_user_id, 'send', due_at, batch_id, 'pending', now_ts from m
    on conflict on constraint deliveries_once do nothing
    returning batch_id, line_user_id),
  grouped as (
    select batch_id, array_agg(line_user_id) as recipients from added group by batch_id),
  inserted as (
    insert into outbox_batches (id, scenario_id, step_id, kind, messages, recipients, aggregation_unit, created_at, updated_at)
    select b.id, b.scenario_id, b.step_id, case when cardinality(g.recipients) = 1 then 'push' else b.kind end, b.messages, g.recipients, b.aggregation_unit, now_ts, now_ts
    from b join grouped g on g.batch_id = b.id
    returning 1)
  -- (skipped runs to completion unread, as every data-modifying WITH does.)
  select (select count(*) from owned), (select count(*) from inserted)
    into n_owned, n_batches;

  return jsonb_build_object('committed', n_owned, 'lost', n_plans - n_owned, 'batches', n_batches);
end $$;

-- Claims pending outbox batches with a lease. A batch that may already have been
-- accepted by LINE (a timeout, a 5xx, a crash mid-send) and is older than the retry-key
-- window is never resent blindly: it is marked needs_review for a person.
create or replace function lsd_claim_batches(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  lease interval := make_interval(secs => coalesce((p->>'lease_seconds')::integer, 300));
  lim integer := coalesce((p->>'limit')::integer, 200);
  win interval := make_interval(secs => coalesce((p->>'retry_window_seconds')::integer, 23 * 3600));
  reviewed integer;
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
    update deliveries set status = 'needs_review' where batch_id in (select id from marked) returning 1)
  select count(*) into reviewed from marked;

  -- tried_since: batches this tick already tried (deferred ones wait for the next tick).
  with picked as (
    select id from outbox_batches
    where status = 'pending' and (lease_until is null or lease_until < now_ts)
      and (p->'tried_since' is null or last_attempt_at is null or last_attempt_at < lsd_ts(p->'tried_since'))
    order by created_at limit lim for update skip locked),
  leased as (
    update outbox_batches set lease_owner = owner_, lease_until = now_ts + lease, attempts = attempts + 1,
      first_attempt_at = coalesce(first_attempt_at, now_ts), last_attempt_at = now_ts, attempt_started_at = now_ts, updated_at = now_ts
    from picked where outbox_batches.id = picked.id
    returning outbox_batches.*)
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'scenario_id', scenario_id, 'step_id', step_id, 'kind', kind, 'messages', messages,
           'recipients', to_jsonb(recipients), 'aggregation_unit', aggregation_unit, 'attempts', attempts, 'created_at', lsd_ms(created_at)) order by created_at), '[]'::jsonb)
    into claimed from leased;
  return jsonb_build_object('batches', claimed, 'needs_review', reviewed);
end $$;

-- Records what LINE answered for each batch: sent (200, or 409 for a repeated retry
-- key), failed (LINE refused it), deferred (not accepted: try again later) or uncertain
-- (no answer: a timeout or a 5xx, LINE may have accepted it).
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
  from updated u where d.batch_id = u.id;
  get diagnostics n = row_count;
  return jsonb_build_object('deliveries', n);
end $$;

-- The heartbeat: records a tick and returns the one before it.
create or replace function lsd_run_start(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  prev runs;
  id_ uuid;
begin
  select * into prev from runs where shard_index = coalesce((p->>'shard_index')::integer, 0) order by started_at desc limit 1;
  insert into runs (started_at, shard_index, shard_count, dry_run, trigger)
  values (lsd_ts(p->'now'), coalesce((p->>'shard_index')::integer, 0), coalesce((p->>'shard_count')::integer, 1), coalesce((p->>'dry_run')::boolean, false), p->>'trigger')
  returning id into id_;
  return jsonb_build_object('id', id_, 'previous_started_at', lsd_ms(prev.started_at), 'previous_status', prev.status);
end $$;

create or replace function lsd_run_finish(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
begin
  update runs set finished_at = lsd_ts(p->'now'), counts = coalesce(p->'counts', '{}'), status = coalesce(p->>'status', 'ok')
  where id = (p->>'id')::uuid;
  return jsonb_build_object(
    'needs_review', (select count(*) from outbox_batches where status = 'needs_review'),
    'set_aside_recent', (select count(*) from events where status = 'set_aside' and inserted_at > lsd_ts(p->'now') - interval '7 days'),
    'waiting_link', (select count(*) from events where status = 'waiting_link'),
    'pending_batches', (select count(*) from outbox_batches where status = 'pending'));
end $$;

-- What a set of users received, for the local demo and tests (never for public logs).
create or replace function lsd_deliveries_of(p jsonb) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('line_user_id', d.line_user_id, 'scenario_id', d.scenario_id, 'step_id', d.step_id, 'kind', d.kind,
           'status', d.status, 'due_at', lsd_ms(d.due_at), 'sent_at', lsd_ms(d.sent_at), 'batch_id', d.batch_id, 'reason', d.reason)
           order by d.line_user_id, d.due_at, d.id), '[]'::jsonb)
  from deliveries d
  where d.line_user_id in (select jsonb_array_elements_text(p->'line_user_ids'))
$$;

-- Inserts a page of imported events; a repeated idempotency key is skipped, so importing
-- the same file twice changes nothing.
create or replace function lsd_insert_events(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare n integer;
begin
  insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key)
  select x.line_user_id, x.member_id, x.type, coalesce(x.properties, '{}'), coalesce(lsd_ts(x.occurred_at), now()), coalesce(x.source, 'import'), x.idempotency_key
  from jsonb_to_recordset(coalesce(p->'events', '[]')) as x(line_user_id text, member_id text, type text, properties jsonb, occurred_at jsonb, source text, idempotency_key text)
  on conflict (idempotency_key) do nothing;
  get diagnostics n = row_count;
  return jsonb_build_object('inserted', n);
end $$;

-- Gives back leases without changing anything else (a plan-only dry run).
create or replace function lsd_release(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare n integer;
begin
  update enrollments set lease_owner = null, lease_until = null
  where lease_owner = p->>'owner' and id in (select x::uuid from jsonb_array_elements_text(coalesce(p->'ids', '[]'::jsonb)) x);
  get diagnostics n = row_count;
  return jsonb_build_object('released', n);
end $$;

-- Only the service role (and the engine's own connection) may call these: on Supabase,
-- functions in public are executable by anon and authenticated unless revoked.
do $$
declare
  fn text;
  r text;
begin
  foreach fn in array array['lsd_register_scenarios', 'lsd_ingest_claim', 'lsd_ingest_commit', 'lsd_claim_due', 'lsd_commit_plans',
                            'lsd_claim_batches', 'lsd_record_results', 'lsd_run_start', 'lsd_run_finish', 'lsd_deliveries_of', 'lsd_release', 'lsd_insert_events'] loop
    execute format('revoke all on function %I(jsonb) from public', fn);
    foreach r in array array['anon', 'authenticated'] loop
      if exists (select 1 from pg_roles where rolname = r) then
        execute format('revoke all on function %I(jsonb) from %I', fn, r);
      end if;
    end loop;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on function %I(jsonb) to service_role', fn);
    end if;
  end loop;
end $$;

revoke all on function lsd_user_facts(text[]) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then revoke all on function lsd_user_facts(text[]) from anon; end if;
  if exists (select 1 from pg_roles where rolname = 'authenticated') then revoke all on function lsd_user_facts(text[]) from authenticated; end if;
end $$;
