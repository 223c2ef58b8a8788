-- line-step-delivery: a what-if run (dry-run, with or without as-of) shows what would
-- really happen, and writes nothing.
--
-- * lsd_ingest_claim takes after_id (only events after it) and returns last_id (the last
--   event it looked at), so that a reader that leases nothing can page through new events.
-- * lsd_ingest_peek runs lsd_ingest_claim inside a block that is then undone: the events
--   come back routed-ready (member ids resolved, each user-changing event with the user's
--   facts before and after it) and nothing of what the claim wrote stays (no lease, no
--   status, no user row): the block's writes are rolled back before the function returns.
-- * lsd_peek_due reads what lsd_claim_due would claim, without leasing it, a page at a time
--   in (due_at, id) order from a cursor; or given enrollments by id (woken or re-keyed by
--   events the what-if took in), and the facts and events of further users (enrolled by them).
-- * enrollments_due becomes (due_at, id): the what-if's pages start where the last one
--   ended, also among 100,000 enrollments due at the same minute (a campaign at 10:00).

do $$
begin
  if not exists (select 1 from pg_indexes where schemaname = current_schema() and indexname = 'enrollments_due'
                 and indexdef like '%(due_at, id)%') then
    create index if not exists enrollments_due_id on enrollments (due_at, id) where status = 'active';
    drop index if exists enrollments_due;
    alter index enrollments_due_id rename to enrollments_due;
  end if;
end $$;

-- As in 20261130000001, with after_id and last_id.
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
  -- Only events after this id (a what-if pages on without leasing); last_id: the page's last.
  after_id bigint := coalesce((p->>'after_id')::bigint, 0);
  last_id bigint;
begin
  -- Member-id events whose link never came: set aside after 30 days, with the reason.
  update events set status = 'set_aside', status_reason = 'member_id was never linked to a LINE user within 30 days', processed_at = now_ts
  where id in (select id from events where status = 'waiting_link' and inserted_at < now_ts - interval '30 days' limit 1000);

  for e in
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
    select * from leased order by id
  loop
    picked := picked + 1;
    last_id := e.id;
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
    'last_id', last_id::text,
    -- A full page, or one cut short by its byte bound: there may be more.
    'more', picked > 0 and (picked >= lim or exists (
      select 1 from events where status = 'new' and (lease_until is null or lease_until < now_ts) and id > after_id)),
    'users', lsd_user_facts(users_),
    'enrollments', coalesce((select jsonb_agg(jsonb_build_object('id', x.id, 'scenario_id', x.scenario_id, 'line_user_id', x.line_user_id, 'status', x.status, 'entered_at', lsd_ms(x.entered_at), 'waiting_for', x.waiting_for, 'enrollment_key', x.enrollment_key))
                             from (select distinct on (line_user_id, scenario_id, enrollment_key, status = 'active') *
                                   from enrollments where line_user_id = any(users_)
                                   order by line_user_id, scenario_id, enrollment_key, status = 'active', entered_at desc) x
                             -- every active one (one per scenario and key), and the latest ended one per scenario and key for re-entry rules
                            ), '[]'::jsonb));
end $$;

-- What a tick would take in next, with nothing written: p as lsd_ingest_claim's (after_id to page on).
create or replace function lsd_ingest_peek(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  seen jsonb;
begin
  begin
    seen := lsd_ingest_claim(p || '{"owner": "what-if", "lease_seconds": 1}'::jsonb);
    -- Undoes every write of the block; the answer, held in a variable, stays.
    raise exception using errcode = 'LSDWI', message = 'what-if: undo the claim';
  exception when sqlstate 'LSDWI' then
    null;
  end;
  return seen;
end $$;

-- What lsd_claim_due would claim, without leasing it (a what-if):
--   p: {now, limit, shard_index, shard_count, event_types, cap_since, scenario_ids,
--       after_due, after_id (the cursor: the last enrollment of the previous page)}
--   or p: {ids: [enrollment ids], user_ids: [more users], since: ms, event_types, cap_since}
-- Answers as lsd_claim_due, each enrollment with its due_at.
create or replace function lsd_peek_due(p jsonb) returns jsonb
language plpgsql stable set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  lim integer := coalesce((p->>'limit')::integer, 1000);
  shard_count integer := coalesce((p->>'shard_count')::integer, 1);
  shard_index integer := coalesce((p->>'shard_index')::integer, 0);
  types_ text[] := coalesce((select array_agg(t) from jsonb_array_elements_text(p->'event_types') t), '{}');
  only_ text[] := case when jsonb_typeof(p->'scenario_ids') = 'array'
                       then coalesce((select array_agg(t) from jsonb_array_elements_text(p->'scenario_ids') t), '{}') end;
  after_due timestamptz := lsd_ts(p->'after_due');
  after_id uuid := nullif(p->>'after_id', '')::uuid;
  more_users text[] := array(select jsonb_array_elements_text(coalesce(p->'user_ids', '[]'::jsonb)));
  picked uuid[];
  claimed jsonb;
  users_ text[];
  since timestamptz;
begin
  if jsonb_typeof(p->'ids') = 'array' then
    picked := array(select e.id from enrollments e
                    where e.id in (select x::uuid from jsonb_array_elements_text(p->'ids') x) and e.status = 'active');
  else
    picked := array(
      select e.id from enrollments e
      where e.status = 'active' and e.due_at <= now_ts
        and (after_due is null or (e.due_at, e.id) > (after_due, after_id))
        and (shard_count <= 1 or e.shard_key % shard_count = shard_index)
        and (only_ is null or e.scenario_id = any(only_))
      order by e.due_at, e.id limit lim);
  end if;

  select coalesce(jsonb_agg(jsonb_build_object(
           'id', id, 'scenario_id', scenario_id, 'line_user_id', line_user_id, 'step_id', step_id,
           'entered_at', lsd_ms(entered_at), 'previous_at', lsd_ms(previous_at), 'wait_started_at', lsd_ms(wait_started_at),
           'trigger', trigger, 'scenario_hash', scenario_hash, 'converted', converted_at is not null,
           'due_at', lsd_ms(due_at)) order by due_at, id), '[]'::jsonb),
         coalesce(array_agg(distinct line_user_id), '{}'), min(entered_at)
    into claimed, users_, since
  from enrollments where id = any(picked);
  users_ := array(select distinct u from unnest(users_ || more_users) u);
  since := least(since, lsd_ts(p->'since'));

  return jsonb_build_object(
    'enrollments', claimed,
    'users', lsd_user_facts(users_),
    'events', coalesce((select jsonb_agg(jsonb_build_object('id', ev.id::text, 'line_user_id', ev.line_user_id, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties) order by ev.occurred_at)
                        from events ev where ev.line_user_id = any(users_) and ev.occurred_at >= since and ev.type = any(types_) and ev.status <> 'set_aside'), '[]'::jsonb),
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

select lsd_secure_functions();
select lsd_migration_applied('20261201000003_what_if.sql');
