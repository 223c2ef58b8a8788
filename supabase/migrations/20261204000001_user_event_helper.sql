-- line-step-delivery: ingest split by concern, with one helper that applies a user event
-- to a user's record. Behaviour unchanged.
--
-- lsd_ingest_claim (the tick's ingest, and the what-if's: lsd_ingest_peek runs it in a
-- block it undoes) was one loop of 200 lines that checked each event, resolved its member
-- id, and folded the event into line_users in a case of UPDATE statements. Its parts are
-- now named:
--
-- * lsd_user_event_types: the event types that change a user's record (follow state,
--   link, attributes, answers); routing gets the user's facts before and after each.
-- * lsd_apply_user_event: what one event does to a user's record, without writing. The
--   only place that says it; the planner's routing (src/planner/route.ts) reads the facts
--   it leaves (test/store/user-event-helper.test.ts holds them to each other).
-- * lsd_event_problem and lsd_user_problem: why an event is set aside, before and after
--   its member id is looked up.
-- * lsd_ingest_user_event: applies one event to its user's row (a row for a new user
--   first), in a block of its own: what still fails there sets the event aside alone.
-- * lsd_ingest_events and lsd_ingest_enrollments: the page's answer (same jsonb as before).
--
-- Action step events (tag_added, tag_removed, attribute_set, attribute_cleared) change
-- nothing here: the commit that recorded them already applied the change (20261203000001).

-- The event types lsd_apply_user_event folds into a user's record.
create or replace function lsd_user_event_types() returns text[]
language sql immutable as $$ select array['follow', 'unfollow', 'account_linked', 'profile_updated', 'survey_answered'] $$;

-- A user's record after one event (its properties checked by lsd_fact_problem), as the
-- ingest writes it; unchanged for an event that does not concern the record. updated_at
-- becomes now_ts whenever the event applied.
create or replace function lsd_apply_user_event(u line_users, type_ text, props jsonb, at_ timestamptz, now_ts timestamptz)
returns line_users
language plpgsql immutable as $$
begin
  case type_
    when 'follow' then
      -- A follow older than the last unfollow (delivered late) does not undo it.
      if u.unfollowed_at is null or u.unfollowed_at <= at_ then
        u.following := true;
        u.followed_at := at_;
        u.follow_route := coalesce(props->>'route', u.follow_route);
        u.updated_at := now_ts;
      end if;
    when 'unfollow' then
      if u.followed_at is null or u.followed_at <= at_ then
        u.following := false;
        u.unfollowed_at := at_;
        u.updated_at := now_ts;
      end if;
    when 'account_linked' then
      u.member_id := props->>'memberId';
      u.attributes := u.attributes || '{"linked": true}'::jsonb;
      u.updated_at := now_ts;
    when 'profile_updated' then
      -- The attributes object, or (without one) the properties themselves.
      u.attributes := u.attributes || case when props ? 'attributes' then props->'attributes' else props end;
      u.updated_at := now_ts;
    when 'survey_answered' then
      -- Without a question (a shop's survey with its own properties) it only routes.
      if props->>'question' is not null then
        u.answers := u.answers || jsonb_build_object(props->>'question', coalesce(props->'answer', 'null'::jsonb));
        u.updated_at := now_ts;
      end if;
    else null;
  end case;
  return u;
end $$;

-- Why an event is set aside before its member id is looked up (a malformed event does not
-- wait 30 days for a link), or null. latest: the last occurred_at taken in.
create or replace function lsd_event_problem(type_ text, at_ timestamptz, props jsonb, text_bytes integer, latest timestamptz)
returns text
language plpgsql immutable as $$
declare
  reason text;
begin
  reason := case
    when type_ !~ '^[a-z][a-z0-9_]{0,63}$' then 'type must be lower snake case, like cart_abandoned'
    when at_ < timestamptz '2000-01-01 00:00:00+00' then 'occurred_at is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)'
    when at_ > latest then 'occurred_at is more than a day after now: check the clock, the time zone or the unit'
  end;
  if reason is null then reason := lsd_properties_problem(props, text_bytes); end if;
  if reason is null and type_ = any(lsd_fact_types()) then reason := lsd_fact_problem(type_, props); end if;
  return reason;
end $$;

-- The LINE user an event given by member id is for; null when no one is linked to that
-- member id yet: the event then waits for the link (taken in when it comes, or set aside
-- after 30 days).
create or replace function lsd_link_member(event_id bigint, member text) returns text
language plpgsql as $$
declare
  resolved text;
begin
  select line_user_id into resolved from line_users where member_id = member;
  if resolved is null then
    update events set status = 'waiting_link', status_reason = 'no LINE user is linked to this member_id yet', lease_owner = null, lease_until = null where id = event_id;
  else
    update events set line_user_id = resolved where id = event_id;
  end if;
  return resolved;
end $$;

-- Why an event cannot be taken in for the LINE user it ends up with, or null.
create or replace function lsd_user_problem(resolved text, type_ text, props jsonb) returns text
language sql stable as $$
  select case
    when resolved is null then 'neither line_user_id nor member_id is given'
    -- One malformed id in a multicast makes LINE refuse it for all 500 recipients.
    when resolved !~ '^U[0-9a-f]{32}$' then 'line_user_id must be a LINE user id: "U" and 32 lowercase hex digits'
    when type_ = 'account_linked' and exists (
        select 1 from line_users where member_id = props->>'memberId' and line_user_id <> resolved)
      then 'account_linked: this memberId is already linked to another LINE user (a link nonce used twice?); the first link stands'
  end
$$;

-- Takes one event in for its user: a row for a new user (following), the event applied to
-- it (lsd_apply_user_event), and for a link the events that waited for it. A block of its
-- own: whatever still fails here (a concurrent tick linking the same member id, say) is
-- returned as the reason to set this event aside, and only what it did is undone.
create or replace function lsd_ingest_user_event(resolved text, type_ text, props jsonb, at_ timestamptz, now_ts timestamptz)
returns text
language plpgsql as $$
declare
  before_ line_users;
  after_ line_users;
begin
  insert into line_users (line_user_id, following, created_at, updated_at) values (resolved, true, now_ts, now_ts)
  on conflict (line_user_id) do nothing;
  -- Other events leave the row unread and unlocked.
  if type_ = any(lsd_user_event_types()) then
    select * into before_ from line_users where line_user_id = resolved for update;
    after_ := lsd_apply_user_event(before_, type_, props, at_, now_ts);
    if after_ is distinct from before_ then
      update line_users set member_id = after_.member_id, following = after_.following, followed_at = after_.followed_at,
        unfollowed_at = after_.unfollowed_at, follow_route = after_.follow_route, attributes = after_.attributes,
        answers = after_.answers, updated_at = after_.updated_at
      where line_user_id = resolved;
    end if;
  end if;
  if type_ = 'account_linked' then
    -- Events that waited for this link are taken in now.
    update events set status = 'new', line_user_id = resolved, status_reason = null, lease_owner = null, lease_until = null
    where status = 'waiting_link' and member_id = props->>'memberId';
  end if;
  return null;
exception when others then
  -- The SQLSTATE only: an error's message can quote the values.
  return format('%s: could not be applied to the user record (SQLSTATE %s); nothing of it was applied', type_, sqlstate);
end $$;

-- {events}: the events taken in, each user-changing one with the user's facts before it
-- (the user's first change of the page) and after it. Built once at the end (appending in
-- the loop copied the page once per event).
create or replace function lsd_ingest_events(taken bigint[], before_ids bigint[], before_facts jsonb[], after_ids bigint[], after_facts jsonb[])
returns jsonb
language sql stable as $$
  select jsonb_build_object('events', coalesce(jsonb_agg(jsonb_build_object('id', ev.id::text, 'line_user_id', ev.line_user_id, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties)
                            || case when b.f is null then '{}'::jsonb else jsonb_build_object('facts_before', b.f) end
                            || case when a.f is null then '{}'::jsonb else jsonb_build_object('facts_after', a.f) end order by ev.id), '[]'::jsonb))
  from events ev
  left join unnest(before_ids, before_facts) as b(id, f) on b.id = ev.id
  left join unnest(after_ids, after_facts) as a(id, f) on a.id = ev.id
  where ev.id = any(taken)
$$;

-- The users' enrollments routing needs: every active one (one per scenario and key), and
-- the latest ended one per scenario and key for re-entry rules.
create or replace function lsd_ingest_enrollments(users_ text[]) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'scenario_id', x.scenario_id, 'line_user_id', x.line_user_id, 'status', x.status, 'entered_at', lsd_ms(x.entered_at), 'waiting_for', x.waiting_for, 'enrollment_key', x.enrollment_key)), '[]'::jsonb)
  from (select distinct on (line_user_id, scenario_id, enrollment_key, status = 'active') *
        from enrollments where line_user_id = any(users_)
        order by line_user_id, scenario_id, enrollment_key, status = 'active', entered_at desc) x
$$;

-- Leases the page of new events ingest takes next, in id order: up to lim events after
-- after_id, as many as fit in page_bytes of properties (at least one).
create or replace function lsd_ingest_lease(owner_ text, now_ts timestamptz, lease interval, lim integer, page_bytes bigint, after_id bigint)
returns table (id bigint, line_user_id text, member_id text, type text, properties jsonb, occurred_at timestamptz, text_bytes integer)
language plpgsql set plan_cache_mode = force_custom_plan set enable_bitmapscan = off set enable_seqscan = off as $$
#variable_conflict use_column
begin
  return query
  with candidates as (
    select id, octet_length(properties::text) as text_bytes from events
    where status = 'new' and (lease_until is null or lease_until < now_ts) and id > after_id
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
  select * from leased order by id;
end $$;

-- As in 20261201000003, its parts in the functions above; with the plan settings of
-- 20261202000001 (a create or replace drops those not repeated).
create or replace function lsd_ingest_claim(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_bitmapscan = off set enable_seqscan = off as $$
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
  changing constant text[] := lsd_user_event_types();
  changed_users text[] := '{}';
  before_ids bigint[] := '{}';
  before_facts jsonb[] := '{}';
  after_ids bigint[] := '{}';
  after_facts jsonb[] := '{}';
  facts_before jsonb;
  -- Only events after this id (a what-if pages on without leasing); last_id: the page's last.
  after_id bigint := coalesce((p->>'after_id')::bigint, 0);
  last_id bigint;
begin
  -- Member-id events whose link never came: set aside after 30 days, with the reason.
  update events set status = 'set_aside', status_reason = 'member_id was never linked to a LINE user within 30 days', processed_at = now_ts
  where id in (select id from events where status = 'waiting_link' and inserted_at < now_ts - interval '30 days' limit 1000);

  for e in
    select * from lsd_ingest_lease(owner_, now_ts, lease, lim, page_bytes, after_id)
  loop
    picked := picked + 1;
    last_id := e.id;
    reason := lsd_event_problem(e.type, e.occurred_at, e.properties, e.text_bytes, latest);
    resolved := e.line_user_id;
    if reason is null and resolved is null and e.member_id is not null then
      resolved := lsd_link_member(e.id, e.member_id);
      if resolved is null then waiting_count := waiting_count + 1; continue; end if;
    end if;
    reason := coalesce(reason, lsd_user_problem(resolved, e.type, e.properties));

    facts_before := null;
    if reason is null and e.type = any(changing) and not resolved = any(changed_users) then
      facts_before := lsd_user_facts(array[resolved])->0;
    end if;
    if reason is null then
      reason := lsd_ingest_user_event(resolved, e.type, e.properties, e.occurred_at, now_ts);
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

  return lsd_ingest_events(taken, before_ids, before_facts, after_ids, after_facts) || jsonb_build_object(
    'set_aside', cardinality(aside_ids),
    'set_aside_reasons', coalesce((select jsonb_object_agg(r.reason, r.n) from (select x as reason, count(*) as n from unnest(aside_reasons) x group by x) r), '{}'::jsonb),
    'waiting_link', waiting_count,
    'last_id', last_id::text,
    -- A full page, or one cut short by its byte bound: there may be more.
    'more', picked > 0 and (picked >= lim or exists (
      select 1 from events where status = 'new' and (lease_until is null or lease_until < now_ts) and id > after_id)),
    'users', lsd_user_facts(users_),
    'enrollments', lsd_ingest_enrollments(users_));
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261204000001_user_event_helper.sql');
