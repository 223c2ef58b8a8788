-- The welcome by reply (issue 22 item 1, docs/reply.md). The LINE webhook answers a follow
-- with the first step of the scenario it enters, through LINE's reply API (free, within a
-- second), when that step is marked "reply" and due at once. The enrollment and the step's
-- delivery are written here before the reply goes, as the tick would write them, so that:
-- * the tick's ingest of the same follow enrolls nobody twice (it routes the follow and
--   finds the enrollment, as re-entry "once" or "after_finish" says: "restart" is refused
--   for reply steps at validation);
-- * the tick's plan of that enrollment decides the same step at the same moment, and its
--   delivery already exists (deliveries_once), so lsd_commit_plans adds no recipient and
--   writes no batch: the step is never pushed after a reply;
-- * a reply LINE refused (a used or expired token, a 400) removes the delivery, so the next
--   tick pushes the step, once; a reply whose outcome is unknown (a timeout, a 5xx) keeps it:
--   at most once for that step.
-- The enrollment is leased to the reply while it goes, so no tick plans it meanwhile.

-- A delivery that went (or may have gone) as the reply to a follow.
alter table deliveries drop constraint if exists deliveries_kind;
alter table deliveries add constraint deliveries_kind check (kind in ('send', 'expire', 'fail', 'act', 'reply')) not valid;
alter table deliveries validate constraint deliveries_kind;

-- One row per follow the webhook considered replying to (keyed by the follow event's
-- idempotency key, so a redelivered webhook replies once), with what came of it.
create table if not exists replies (
  event_key text primary key,
  line_user_id text not null,
  scenario_id text,
  step_id text,
  enrollment_id uuid,
  delivery_id bigint,
  status text not null,
  reason text,
  line_request_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint replies_status check (status in ('sending', 'sent', 'failed', 'unknown', 'skipped'))
);
comment on table replies is 'Welcomes by reply: sending (the reply is going), sent, failed (LINE refused it: the tick pushes the step), unknown (no answer: never pushed, at most once), skipped (no reply: the tick pushes what is due). reason says why.';
alter table replies enable row level security;
create index if not exists replies_recent on replies (created_at);

-- What the webhook needs to decide a reply with the engine's own routing and planner: the
-- follow event as recorded, the user as the tick will see them once the follow is taken
-- in (lsd_apply_user_event), the user's enrollments (as lsd_ingest_enrollments gives them
-- to routing), and the current definitions of scenarios whose first step is marked reply.
--   p: {event_key, now}
create or replace function lsd_reply_prepare(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  e events;
  u line_users;
begin
  select * into e from events where idempotency_key = p->>'event_key';
  if not found or e.type <> 'follow' or e.line_user_id is null then
    return jsonb_build_object('none', 'the follow is not recorded');
  end if;
  if e.status <> 'new' or (e.lease_until is not null and e.lease_until > now_ts) then
    return jsonb_build_object('none', 'the tick took the follow in first');
  end if;
  if exists (select 1 from replies where event_key = p->>'event_key') then
    return jsonb_build_object('none', 'this follow was answered before (a redelivered webhook)');
  end if;
  select * into u from line_users where line_user_id = e.line_user_id;
  if not found then
    u.line_user_id := e.line_user_id;
    u.following := false;
    u.attributes := '{}'::jsonb;
    u.answers := '{}'::jsonb;
  end if;
  u := lsd_apply_user_event(u, 'follow', e.properties, e.occurred_at, now_ts);
  return jsonb_build_object(
    'event', jsonb_build_object('id', e.id::text, 'type', e.type, 'occurred_at', lsd_ms(e.occurred_at), 'properties', e.properties),
    'user', jsonb_build_object('line_user_id', u.line_user_id, 'following', u.following,
      'attributes', coalesce(u.attributes, '{}'::jsonb) || jsonb_build_object('linked', u.member_id is not null or coalesce((u.attributes->>'linked')::boolean, false)),
      'answers', coalesce(u.answers, '{}'::jsonb)),
    'enrollments', lsd_ingest_enrollments(array[e.line_user_id]),
    'scenarios', coalesce((
      select jsonb_agg(jsonb_build_object('id', s.scenario_id, 'hash', s.current_hash, 'activated_at', lsd_ms(s.activated_at), 'definition', v.definition))
      from scenarios s join scenario_versions v on v.scenario_id = s.scenario_id and v.hash = s.current_hash
      where v.definition->'steps'->0->>'type' = 'message' and (v.definition->'steps'->0->'reply') = 'true'::jsonb), '[]'::jsonb));
end $$;

-- Writes the enrollment (leased to the reply) and its first step's delivery (kind reply,
-- pending) before the reply goes, in one transaction; or says why not. The follow must still
-- be waiting for the tick (locked here, so a tick's ingest does not take it meanwhile).
--   p: {event_key, scenario_id, scenario_hash, step_id, due_at, entered_at, trigger, now, lease_seconds}
--      or {event_key, skip: reason, now}: no reply, the reason recorded
--   returns: {go: true, enrollment_id, delivery_id} or {go: false, reason}
create or replace function lsd_reply_begin(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  key_ text := p->>'event_key';
  e events;
  enrollment_ uuid;
  delivery_ bigint;
  why text;
begin
  select * into e from events where idempotency_key = key_ for update skip locked;
  if not found then
    why := 'the tick was taking the follow in';
  elsif p->>'skip' is not null then
    why := p->>'skip';
  elsif e.status <> 'new' or (e.lease_until is not null and e.lease_until > now_ts) then
    why := 'the tick took the follow in first';
  end if;
  insert into replies (event_key, line_user_id, scenario_id, step_id, status, reason, created_at, updated_at)
  values (key_, coalesce(e.line_user_id, ''), p->>'scenario_id', p->>'step_id', case when why is null then 'sending' else 'skipped' end, why, now_ts, now_ts)
  on conflict (event_key) do nothing;
  if not found then
    return jsonb_build_object('go', false, 'reason', 'this follow was answered before (a redelivered webhook)');
  end if;
  if why is not null then
    return jsonb_build_object('go', false, 'reason', why);
  end if;
  -- The follow applied to the user's record as the tick's ingest will apply it (again, to
  -- the same effect): a tick planning the enrollment before it takes the follow in sees a
  -- user who follows.
  why := lsd_ingest_user_event(e.line_user_id, 'follow', e.properties, e.occurred_at, now_ts);
  if why is not null then
    update replies set status = 'skipped', reason = why where event_key = key_;
    return jsonb_build_object('go', false, 'reason', why);
  end if;

  insert into enrollments (scenario_id, line_user_id, enrollment_key, status, step_id, entered_at, previous_at, due_at, trigger, trigger_event_id,
                           scenario_hash, shard_key, lease_owner, lease_until, created_at, updated_at)
  values (p->>'scenario_id', e.line_user_id, null, 'active', p->>'step_id', lsd_ts(p->'entered_at'), lsd_ts(p->'entered_at'), lsd_ts(p->'entered_at'),
          coalesce(p->'trigger', '{}'), e.id, p->>'scenario_hash', lsd_shard_key(e.line_user_id),
          'reply:' || key_, now_ts + make_interval(secs => coalesce((p->>'lease_seconds')::integer, 60)), now_ts, now_ts)
  on conflict (scenario_id, line_user_id, enrollment_key) where status = 'active' do nothing
  returning id into enrollment_;
  if enrollment_ is null then
    update replies set status = 'skipped', reason = 'the user is inside the scenario already' where event_key = key_;
    return jsonb_build_object('go', false, 'reason', 'the user is inside the scenario already');
  end if;
  insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, created_at)
  values (enrollment_, p->>'scenario_id', p->>'step_id', e.line_user_id, 'reply', lsd_ts(p->'due_at'), 'pending', now_ts)
  returning id into delivery_;
  update replies set enrollment_id = enrollment_, delivery_id = delivery_ where event_key = key_;
  return jsonb_build_object('go', true, 'enrollment_id', enrollment_, 'delivery_id', delivery_);
end $$;

-- What came of the reply: sent (the delivery is sent), failed (LINE refused it: the
-- delivery is removed, so the tick pushes the step), unknown (no answer: the delivery is
-- kept, as sent, and the step is never pushed). The enrollment's lease is given back.
--   p: {event_key, outcome: sent | failed | unknown, reason, request_id, now}
create or replace function lsd_reply_finish(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  outcome_ text := p->>'outcome';
  r replies;
begin
  if outcome_ not in ('sent', 'failed', 'unknown') then
    raise invalid_parameter_value using message = 'outcome is sent, failed or unknown';
  end if;
  update replies set status = outcome_, reason = left(p->>'reason', 500), line_request_id = p->>'request_id', updated_at = now_ts
  where event_key = p->>'event_key' and status = 'sending'
  returning * into r;
  if not found then
    return jsonb_build_object('finished', false);
  end if;
  if outcome_ = 'failed' then
    delete from deliveries where id = r.delivery_id and status = 'pending';
  else
    update deliveries set status = 'sent', sent_at = now_ts,
      reason = case when outcome_ = 'unknown' then left('reply: no answer from LINE (' || coalesce(p->>'reason', 'unknown') || '); counted as sent, never pushed', 500) end
    where id = r.delivery_id;
  end if;
  update enrollments set lease_owner = null, lease_until = null, updated_at = now_ts
  where id = r.enrollment_id and lease_owner = 'reply:' || r.event_key;
  return jsonb_build_object('finished', true);
end $$;

select lsd_secure_tables(array['replies']);
select lsd_secure_functions();
select lsd_migration_applied('20261207000501_welcome_reply.sql');
