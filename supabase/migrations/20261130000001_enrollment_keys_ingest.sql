-- Enrollment keys in ingest (the schema came in 20261128000001): lsd_ingest_claim returns
-- each enrollment's key (every active one per scenario and key, and the latest ended one per
-- scenario and key for re-entry rules); lsd_ingest_commit inserts with the key, one active
-- enrollment per scenario, user and key, and re-times a keyed enrollment whose key came
-- again; lsd_claim_batches gives the key with exit events, so the cancellation of one
-- booking does not drop another's step. The index of one active enrollment per scenario and
-- user goes: two bookings are two enrollments.
--
-- Also: an exit on the goal's own event records the conversion (converted_at), and a
-- survey_answered without a question is taken in (it routes; it records no answer) instead
-- of being set aside.
--
-- Each function starts from its latest version: lsd_ingest_claim from 20261126000002,
-- lsd_ingest_commit and lsd_fact_problem from 20261126000001, lsd_claim_batches from
-- 20261126000051.

drop index if exists enrollments_one_active;

create or replace function lsd_fact_problem(type_ text, props jsonb) returns text
language plpgsql immutable as $$
declare
  attrs jsonb;
  prefix text;
  bad record;
  container constant jsonpath := 'strict $ ? (@.type() == "object" || (@.type() == "array" && exists(@[*] ? (@.type() == "object" || @.type() == "array"))))';
begin
  case type_
    when 'follow' then
      if jsonb_typeof(props->'route') not in ('string', 'number', 'null') then
        return format('follow: route must be a string, got %s', lsd_json_kind(props->'route'));
      elsif jsonb_typeof(props->'unblocked') not in ('boolean', 'null') then
        return format('follow: unblocked must be true or false, got %s', lsd_json_kind(props->'unblocked'));
      end if;
    when 'account_linked' then
      if coalesce(jsonb_typeof(props->'memberId'), 'null') = 'null' then
        return 'account_linked: memberId is missing';
      elsif jsonb_typeof(props->'memberId') not in ('string', 'number') or (jsonb_typeof(props->'memberId') = 'number' and props->>'memberId' !~ '^-?[0-9]{1,15}$') then
        return format('account_linked: memberId must be a string or a whole number, got %s', lsd_json_kind(props->'memberId'));
      elsif btrim(props->>'memberId') = '' then
        return 'account_linked: memberId is empty';
      elsif length(props->>'memberId') > 200 then
        return 'account_linked: memberId is longer than 200 characters';
      end if;
    when 'profile_updated' then
      -- The attributes object, or (without one) the properties themselves.
      if props ? 'attributes' then
        if jsonb_typeof(props->'attributes') <> 'object' then
          return format('profile_updated: attributes must be a JSON object, got %s', lsd_json_kind(props->'attributes'));
        end if;
        attrs := props->'attributes';
        prefix := 'attributes.';
      else
        attrs := props;
        prefix := '';
      end if;
      if jsonb_typeof(attrs->'linked') not in ('boolean', 'null') then
        return format('profile_updated: %slinked must be true or false, got %s', prefix, lsd_json_kind(attrs->'linked'));
      elsif jsonb_typeof(attrs->'timezone') not in ('string', 'null') then
        return format('profile_updated: %stimezone must be a string (an IANA zone like Asia/Tokyo), got %s', prefix, lsd_json_kind(attrs->'timezone'));
      end if;
      if jsonb_path_exists(attrs, 'strict $.* ? (@.type() == "object" || (@.type() == "array" && exists(@[*] ? (@.type() == "object" || @.type() == "array"))))') then
        select a.key, a.value into bad from jsonb_each(attrs) a where jsonb_path_exists(a.value, container) order by a.key limit 1;
        return format('profile_updated: %s must be a string, a number, true/false, null or a list of those, got %s',
                      lsd_key_label(prefix, bad.key), case when jsonb_typeof(bad.value) = 'array' then 'a list holding a list or an object' else lsd_json_kind(bad.value) end);
      end if;
    when 'survey_answered' then
      -- Without a question it records no answer and only routes (a shop's own survey).
      if coalesce(jsonb_typeof(props->'question'), 'null') = 'null' then
        null;
      elsif jsonb_typeof(props->'question') not in ('string', 'number') then
        return format('survey_answered: question must be a string, got %s', lsd_json_kind(props->'question'));
      elsif btrim(props->>'question') = '' then
        return 'survey_answered: question is empty';
      elsif props ? 'answer' and jsonb_path_exists(props->'answer', container) then
        return format('survey_answered: answer must be a string, a number, true/false or a list of those, got %s',
                      case when jsonb_typeof(props->'answer') = 'array' then 'a list holding a list or an object' else lsd_json_kind(props->'answer') end);
      elsif jsonb_typeof(props->'survey') not in ('string', 'number', 'null') then
        return format('survey_answered: survey must be a string, got %s', lsd_json_kind(props->'survey'));
      end if;
    when 'list_added' then
      if coalesce(jsonb_typeof(props->'list'), 'null') = 'null' then
        return 'list_added: list is missing';
      elsif jsonb_typeof(props->'list') not in ('string', 'number') then
        return format('list_added: list must be a string, got %s', lsd_json_kind(props->'list'));
      end if;
    else null;
  end case;
  return null;
end $$;

create or replace function lsd_ingest_claim(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  lease interval := make_interval(secs => coalesce((p->>'lease_seconds')::integer, 120));
  lim integer := coalesce((p->>'limit')::integer, 500);
  page_bytes bigint := coalesce((p->>'page_bytes')::bigint, 8 * 1024 * 1024);
  -- The database's clock too: a tick run with a clock set in the past (a test, a replay)
  -- must not set aside events inserted now.
  latest timestamptz := greatest(now_ts, now()) + interval '1 day';
  e record;
  resolved text;
  reason text;
  taken bigint[] := '{}';
  users_ text[] := '{}';
  aside_ids bigint[] := '{}';
  aside_reasons text[] := '{}';
  picked integer := 0;
  waiting_count integer := 0;
  fact_types constant text[] := lsd_fact_types();
  -- Types that change the user record (follow state, link, attributes, answers).
  changing constant text[] := array['follow', 'unfollow', 'account_linked', 'profile_updated', 'survey_answered'];
  changed_users text[] := '{}';
  before_ids bigint[] := '{}';
  before_facts jsonb[] := '{}';
  after_ids bigint[] := '{}';
  after_facts jsonb[] := '{}';
  facts_before jsonb;
begin
  -- Member-id events whose link never came: set aside after 30 days, with the reason.
  update events set status = 'set_aside', status_reason = 'member_id was never linked to a LINE user within 30 days', processed_at = now_ts
  where id in (select id from events where status = 'waiting_link' and inserted_at < now_ts - interval '30 days' limit 1000);

  for e in
    with candidates as (
      select id, octet_length(properties::text) as text_bytes from events
      where status = 'new' and (lease_until is null or lease_until < now_ts)
      order by id limit lim for update skip locked),
    -- Bytes of properties this page returns: an event too large to take in is set aside
    -- without its properties being returned, so it counts for nothing.
    budget as (
      select id, text_bytes, sum(case when text_bytes > 2 * 65536 then 0 else text_bytes end) over (order by id) as running
      from candidates),
    chosen as (
      select id, text_bytes from budget where running <= page_bytes or id = (select min(id) from budget)),
    leased as (
      update events set lease_owner = owner_, lease_until = now_ts + lease
      from chosen where events.id = chosen.id
      returning events.id, events.line_user_id, events.member_id, events.type, events.properties, events.occurred_at, chosen.text_bytes)
    select * from leased order by id
  loop
    picked := picked + 1;
    -- Checked before a member id is looked up (a malformed event does not wait 30 days for
    -- a link), then on the LINE user id the event ends up with.
    reason := case
      when e.type !~ '^[a-z][a-z0-9_]{0,63}$' then 'type must be lower snake case, like cart_abandoned'
      when e.occurred_at < timestamptz '2000-01-01 00:00:00+00' then 'occurred_at is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)'
      when e.occurred_at > latest then 'occurred_at is more than a day after now: check the clock, the time zone or the unit'
    end;
    if reason is null then reason := lsd_properties_problem(e.properties, e.text_bytes); end if;
    if reason is null and e.type = any(fact_types) then reason := lsd_fact_problem(e.type, e.properties); end if;
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
      when e.type = 'account_linked' and exists (
          select 1 from line_users where member_id = e.properties->>'memberId' and line_user_id <> resolved)
        then 'account_linked: this memberId is already linked to another LINE user (a link nonce used twice?); the first link stands'
    end);

    facts_before := null;
    if reason is null and e.type = any(changing) and not resolved = any(changed_users) then
      facts_before := lsd_user_facts(array[resolved])->0;
    end if;
    if reason is null then
      -- A block of its own: whatever still fails here (a concurrent tick linking the same
      -- member id, say) sets this event aside and undoes only what it did.
      begin
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
            update line_users set member_id = e.properties->>'memberId', attributes = attributes || '{"linked": true}'::jsonb, updated_at = now_ts
            where line_user_id = resolved;
            -- Events that waited for this link are taken in now.
            update events set status = 'new', line_user_id = resolved, status_reason = null, lease_owner = null, lease_until = null
            where status = 'waiting_link' and member_id = e.properties->>'memberId';
          when 'profile_updated' then
            update line_users set attributes = attributes || case when e.properties ? 'attributes' then e.properties->'attributes' else e.properties end, updated_at = now_ts
            where line_user_id = resolved;
          when 'survey_answered' then
            -- Without a question (a shop's survey with its own properties) it only routes.
            update line_users set answers = answers || jsonb_build_object(e.properties->>'question', coalesce(e.properties->'answer', 'null'::jsonb)), updated_at = now_ts
            where line_user_id = resolved and e.properties->>'question' is not null;
          else null;
        end case;
      exception when others then
        -- The SQLSTATE only: an error's message can quote the values.
        reason := format('%s: could not be applied to the user record (SQLSTATE %s); nothing of it was applied', e.type, sqlstate);
      end;
    end if;

    if reason is null and e.type = any(changing) then
      if not resolved = any(changed_users) then
        -- (null when the user had no row yet: routing then starts from a new user's facts)
        before_ids := before_ids || e.id;
        before_facts := before_facts || facts_before;
        changed_users := changed_users || resolved;
      end if;
      after_ids := after_ids || e.id;
      after_facts := after_facts || (lsd_user_facts(array[resolved])->0);
    end if;
    if reason is not null then
      aside_ids := aside_ids || e.id;
      aside_reasons := aside_reasons || reason;
      continue;
    end if;
    taken := taken || e.id;
    users_ := users_ || resolved;
  end loop;

  update events set status = 'set_aside', status_reason = x.reason, processed_at = now_ts, lease_owner = null, lease_until = null
  from unnest(aside_ids, aside_reasons) as x(id, reason) where events.id = x.id;

  return jsonb_build_object(
    -- Built once at the end (appending in the loop copied the page once per event).
    'events', coalesce((select jsonb_agg(jsonb_build_object('id', ev.id::text, 'line_user_id', ev.line_user_id, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties)
                                         || case when b.f is null then '{}'::jsonb else jsonb_build_object('facts_before', b.f) end
                                         || case when a.f is null then '{}'::jsonb else jsonb_build_object('facts_after', a.f) end order by ev.id)
                        from events ev
                        left join unnest(before_ids, before_facts) as b(id, f) on b.id = ev.id
                        left join unnest(after_ids, after_facts) as a(id, f) on a.id = ev.id
                        where ev.id = any(taken)), '[]'::jsonb),
    'set_aside', cardinality(aside_ids),
    'set_aside_reasons', coalesce((select jsonb_object_agg(r.reason, r.n) from (select x as reason, count(*) as n from unnest(aside_reasons) x group by x) r), '{}'::jsonb),
    'waiting_link', waiting_count,
    -- A full page, or one cut short by its byte bound: there may be more.
    'more', picked > 0 and (picked >= lim or exists (
      select 1 from events where status = 'new' and (lease_until is null or lease_until < now_ts))),
    'users', lsd_user_facts(users_),
    'enrollments', coalesce((select jsonb_agg(jsonb_build_object('id', x.id, 'scenario_id', x.scenario_id, 'line_user_id', x.line_user_id, 'status', x.status, 'entered_at', lsd_ms(x.entered_at), 'waiting_for', x.waiting_for, 'enrollment_key', x.enrollment_key))
                             from (select distinct on (line_user_id, scenario_id, enrollment_key, status = 'active') *
                                   from enrollments where line_user_id = any(users_)
                                   order by line_user_id, scenario_id, enrollment_key, status = 'active', entered_at desc) x
                             -- every active one (one per scenario and key), and the latest ended one per scenario and key for re-entry rules
                            ), '[]'::jsonb));
end $$;

create or replace function lsd_ingest_commit(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_exit integer; n_enroll integer; n_wake integer; n_done integer; n_aside integer; n_update integer;
begin
  -- An exit on the goal's own event (a purchase that ends a cart scenario) is a conversion too.
  update enrollments set status = 'exited', exit_reason = x.reason, ended_at = now_ts, due_at = null, lease_owner = null, lease_until = null, updated_at = now_ts,
         converted_at = coalesce(enrollments.converted_at, lsd_ts(x.converted_at))
  from jsonb_to_recordset(coalesce(p->'exit', '[]')) as x(enrollment_id uuid, reason text, converted_at jsonb)
  where enrollments.id = x.enrollment_id and enrollments.status = 'active';
  get diagnostics n_exit = row_count;

  -- An enrollment that a later event of the same page already ended is stored as ended
  -- (re-entry rules still see it).
  insert into enrollments (scenario_id, line_user_id, enrollment_key, status, exit_reason, converted_at, ended_at, step_id, entered_at, previous_at, due_at, trigger, trigger_event_id, scenario_hash, shard_key, created_at, updated_at)
  select x.scenario_id, x.line_user_id, x.enrollment_key, coalesce(x.status, 'active'), x.exit_reason, lsd_ts(x.converted_at), case when x.status = 'exited' then now_ts end,
         x.step_id, lsd_ts(x.entered_at), lsd_ts(x.entered_at), case when coalesce(x.status, 'active') = 'active' then lsd_ts(x.entered_at) end,
         coalesce(x.trigger, '{}'), x.trigger_event_id, x.scenario_hash, lsd_shard_key(x.line_user_id), now_ts, now_ts
  from jsonb_to_recordset(coalesce(p->'enroll', '[]')) as x(scenario_id text, line_user_id text, enrollment_key text, status text, exit_reason text, converted_at jsonb, step_id text, entered_at jsonb, trigger jsonb, trigger_event_id bigint, scenario_hash text)
  on conflict (scenario_id, line_user_id, enrollment_key) where status = 'active' do nothing;
  get diagnostics n_enroll = row_count;

  -- A keyed enrollment whose key came again (a moved booking): its trigger is replaced and
  -- it is planned again now. Its lease is cleared, so a plan made on the old trigger by a
  -- tick running at the same moment is dropped at its commit.
  update enrollments set trigger = coalesce(x.trigger, '{}'), trigger_event_id = x.trigger_event_id, due_at = least(due_at, now_ts),
         lease_owner = null, lease_until = null, updated_at = now_ts
  from jsonb_to_recordset(coalesce(p->'update', '[]')) as x(enrollment_id uuid, trigger jsonb, trigger_event_id bigint)
  where enrollments.id = x.enrollment_id and enrollments.status = 'active';
  get diagnostics n_update = row_count;

  update enrollments set due_at = least(due_at, now_ts), updated_at = now_ts
  where id in (select x::uuid from jsonb_array_elements_text(coalesce(p->'wake', '[]'::jsonb)) x) and status = 'active';
  get diagnostics n_wake = row_count;

  update events set status = 'set_aside', status_reason = left(x.reason, 500), processed_at = now_ts, lease_owner = null, lease_until = null
  from jsonb_to_recordset(coalesce(p->'set_aside', '[]')) as x(id bigint, reason text)
  where events.id = x.id and events.lease_owner = owner_ and events.status = 'new';
  get diagnostics n_aside = row_count;

  update events set status = 'done', processed_at = now_ts, lease_owner = null, lease_until = null
  where id in (select x::bigint from jsonb_array_elements_text(coalesce(p->'done', '[]'::jsonb)) x) and lease_owner = owner_ and status = 'new';
  get diagnostics n_done = row_count;

  return jsonb_build_object('exited', n_exit, 'enrolled', n_enroll, 'woken', n_wake, 'updated', n_update, 'done', n_done, 'set_aside', n_aside);
end $$;

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
               'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties, 'enrollment_key', e.enrollment_key))
      from outbox_batches b
      join types t on t.scenario_id = b.scenario_id
      join deliveries d on d.batch_id = b.id and d.status = 'pending'
      join enrollments e on e.id = d.enrollment_id and e.status = 'finished'
      join events ev on ev.line_user_id = d.line_user_id and ev.occurred_at > e.entered_at and ev.status = 'done' and ev.type = any(t.names)
      where b.id = any(checked) and b.status = 'pending'), '[]'::jsonb) else '[]'::jsonb end);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261130000001_enrollment_keys_ingest.sql');
