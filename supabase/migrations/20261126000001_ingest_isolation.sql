-- line-step-delivery: one bad event never stops ingest for everyone.
--
-- Each event of a page is checked before it is applied (shape, bounds, the properties the
-- engine reads for its type) and applied in a block of its own: an event that fails a
-- check, or whose application fails anyway, is set aside with a reason a person can act
-- on, and the rest of the page goes on. Reasons name keys and types, never a value.
-- Pages are bounded by bytes as well as rows, so a run of large events never builds a
-- jsonb value near PostgreSQL's 1 GB (or jsonb's 256 MB) limit.
--
-- The bounds are the edge functions' (supabase/functions/_shared/event-contract.ts),
-- counted the same way, so an event the edge accepts is never set aside here for its size:
--   64 KiB of properties as compact JSON (UTF-8); 8 levels (properties is level 1);
--   100 keys in all, at every level (array items are not keys); 4,000 characters in a
--   string, keys included; occurred_at from 2000-01-01 to a day after now.

-- What a JSON value is, in words for a reason ("got an object").
create or replace function lsd_json_kind(v jsonb) returns text
language sql immutable as $$
  select case jsonb_typeof(v)
    when 'object' then 'an object' when 'array' then 'a list' when 'string' then 'a string'
    when 'number' then 'a number' when 'boolean' then 'true/false' when 'null' then 'null'
    else 'nothing' end
$$;

-- A key as a reason shows it: a plain name is shown, anything that might be data is not.
create or replace function lsd_key_label(prefix text, key text) returns text
language sql immutable as $$
  select case when key ~ '^[A-Za-z_][A-Za-z0-9_-]{0,39}$' and key !~ '^U[0-9a-f]{32}$' then prefix || key
              else prefix || '[a key not shown]' end
$$;

-- The size of a value as compact JSON (as JSON.stringify writes it), from the size of
-- PostgreSQL's text form, which adds a space after every ":" and ",". Only called for
-- values whose text is near the bound, after the depth check (the walks are bounded then).
create or replace function lsd_compact_json_bytes(v jsonb, text_bytes integer) returns integer
language sql immutable as $$
  select text_bytes
    - 2 * (select count(*) from jsonb_path_query(v, 'strict $.** ? (@.type() == "object").*'))::integer
    - (select count(*) from jsonb_path_query(v, 'strict $.** ? (@.type() == "array")[*]'))::integer
    + (select count(*) from jsonb_path_query(v, 'strict $.** ? (exists(@.*) || exists(@[*]))'))::integer
$$;

-- What is wrong with an event's properties against the bounds, or null. text_bytes is the
-- size of properties::text, computed once by the claim. (plpgsql, cheapest checks first:
-- a small event costs a few microseconds.)
create or replace function lsd_properties_problem(props jsonb, text_bytes integer) returns text
language plpgsql immutable as $$
declare
  compact integer;
begin
  if jsonb_typeof(props) is distinct from 'object' then
    return format('properties must be a JSON object, got %s', lsd_json_kind(props));
  end if;
  -- Compact JSON is at least half the text form: past twice the bound, it is too large.
  if text_bytes > 2 * 65536 then
    return 'properties are more than 131072 bytes of JSON: at most 65536 bytes an event';
  end if;
  -- A container at level 9 (properties is level 1). The walk stops at that level, so a
  -- value nested thousands of levels deep is refused without a deep recursion.
  if text_bytes >= 18 and jsonb_path_exists(props, 'strict $.**{8} ? (@.type() == "object" || @.type() == "array")') then
    return 'properties nest deeper than 8 levels (properties is level 1)';
  end if;
  if text_bytes > 65536 then
    compact := lsd_compact_json_bytes(props, text_bytes);
    if compact > 65536 then
      return format('properties are %s bytes of JSON: at most 65536 bytes an event', compact);
    end if;
  end if;
  -- 101 keys take more than 500 bytes of text, a string of 4,001 characters more than 4,001.
  -- (Nested ifs: a condition holding a sub-select runs the full executor, even when its
  -- first half is false.)
  if text_bytes > 500 then
    if (select count(*) from jsonb_path_query(props, 'strict $.** ? (@.type() == "object").*')) > 100 then
      return 'properties have more than 100 keys (counted at every level)';
    end if;
  end if;
  if text_bytes > 4001 then
    if exists (
        select 1 from jsonb_path_query(props, 'strict $.** ? (@.type() == "string")') s where length(s #>> '{}') > 4000
        union all
        select 1 from jsonb_path_query(props, 'strict $.** ? (@.type() == "object").keyvalue().key') k where length(k #>> '{}') > 4000) then
      return 'a string in properties is longer than 4000 characters';
    end if;
  end if;
  return null;
end $$;

-- Event types whose properties change the user record, and so are checked by lsd_fact_problem.
create or replace function lsd_fact_types() returns text[]
language sql immutable as $$ select array['follow', 'account_linked', 'profile_updated', 'survey_answered', 'list_added'] $$;

-- What is wrong with the properties the engine reads for this event type, or null. User
-- attributes and survey answers hold what conditions and placeholders read: a string, a
-- number, true/false, null, or a list of those (tags); never an object.
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
      if coalesce(jsonb_typeof(props->'question'), 'null') = 'null' then
        return 'survey_answered: question is missing';
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

-- What the planner and routing know of users. "linked" is read without a cast: a stored
-- attribute of another type (written before ingest checked it) must not fail every tick.
create or replace function lsd_user_facts(users_ text[]) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'line_user_id', u.line_user_id, 'following', u.following,
           'attributes', u.attributes || jsonb_build_object('linked', u.member_id is not null
             or case jsonb_typeof(u.attributes->'linked') when 'boolean' then (u.attributes->'linked') = 'true'::jsonb
                                                          when 'string' then lower(u.attributes->>'linked') in ('true', 't', 'yes', 'y', 'on', '1')
                                                          else false end),
           'answers', u.answers)), '[]'::jsonb)
  from line_users u where u.line_user_id = any(users_)
$$;

-- Takes a page of new events with a lease: resolves member ids, sets aside what cannot be
-- applied (with the reason), applies what events say about users (follow state, links,
-- answers, attributes), and returns the events with the facts routing needs.
--   p: now, owner, lease_seconds, limit (rows, default 500), page_bytes (default 8 MiB of
--      properties returned a page)
--   returns: events, users, enrollments, set_aside (count), set_aside_reasons ({reason: n}),
--      waiting_link (count), more (whether another page may be waiting)
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
            update line_users set answers = answers || jsonb_build_object(e.properties->>'question', coalesce(e.properties->'answer', 'null'::jsonb)), updated_at = now_ts
            where line_user_id = resolved;
          else null;
        end case;
      exception when others then
        -- The SQLSTATE only: an error's message can quote the values.
        reason := format('%s: could not be applied to the user record (SQLSTATE %s); nothing of it was applied', e.type, sqlstate);
      end;
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
    'events', coalesce((select jsonb_agg(jsonb_build_object('id', ev.id::text, 'line_user_id', ev.line_user_id, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties) order by ev.id)
                        from events ev where ev.id = any(taken)), '[]'::jsonb),
    'set_aside', cardinality(aside_ids),
    'set_aside_reasons', coalesce((select jsonb_object_agg(r.reason, r.n) from (select x as reason, count(*) as n from unnest(aside_reasons) x group by x) r), '{}'::jsonb),
    'waiting_link', waiting_count,
    -- A full page, or one cut short by its byte bound: there may be more.
    'more', picked > 0 and (picked >= lim or exists (
      select 1 from events where status = 'new' and (lease_until is null or lease_until < now_ts))),
    'users', lsd_user_facts(users_),
    'enrollments', coalesce((select jsonb_agg(jsonb_build_object('id', x.id, 'scenario_id', x.scenario_id, 'line_user_id', x.line_user_id, 'status', x.status, 'entered_at', lsd_ms(x.entered_at), 'waiting_for', x.waiting_for))
                             from (select distinct on (line_user_id, scenario_id, status = 'active') *
                                   from enrollments where line_user_id = any(users_)
                                   order by line_user_id, scenario_id, status = 'active', entered_at desc) x
                             -- every active one (at most one per scenario), and one ended one per scenario for re-entry rules
                            ), '[]'::jsonb));
end $$;

-- Applies what routing decided for a page of events, in one transaction: enrollments
-- created, ended or woken; the events marked done, or set aside with the reason when
-- routing could not handle them (only while the lease is still ours).
create or replace function lsd_ingest_commit(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_exit integer; n_enroll integer; n_wake integer; n_done integer; n_aside integer;
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

  update events set status = 'set_aside', status_reason = left(x.reason, 500), processed_at = now_ts, lease_owner = null, lease_until = null
  from jsonb_to_recordset(coalesce(p->'set_aside', '[]')) as x(id bigint, reason text)
  where events.id = x.id and events.lease_owner = owner_ and events.status = 'new';
  get diagnostics n_aside = row_count;

  update events set status = 'done', processed_at = now_ts, lease_owner = null, lease_until = null
  where id in (select x::bigint from jsonb_array_elements_text(coalesce(p->'done', '[]'::jsonb)) x) and lease_owner = owner_ and status = 'new';
  get diagnostics n_done = row_count;

  return jsonb_build_object('exited', n_exit, 'enrolled', n_enroll, 'woken', n_wake, 'done', n_done, 'set_aside', n_aside);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261126000001_ingest_isolation.sql');
