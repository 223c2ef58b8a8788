-- line-step-delivery: steps that act (issue 18): tags, attributes and the user's rich menu.
--
-- * An action step's change of tags and attributes is applied to line_users by the commit
--   that advances the enrollment (lsd_commit_plans: plans[].acts), once: the step's
--   delivery (kind act, unique per enrollment, step and moment like every decision) is
--   written first, and a commit that finds it already there changes nothing. Adding beyond
--   100 tags fails that user's step (a delivery of kind fail with the reason); nothing else.
-- * Each change is recorded as an event (tag_added, tag_removed, attribute_set,
--   attribute_cleared; source step; an idempotency key from enrollment, step and moment),
--   inserted as new: the next tick's ingest takes it in like any event, so other scenarios
--   can be triggered by it, wait for it or exit on it, and reports count it.
-- * A rich menu change goes through the outbox, as messages do: batches of kind
--   richmenu_link or richmenu_unlink (messages holds what: a rich menu id, an alias, or
--   unlink), their recipients' deliveries of kind act. When LINE accepts one, the event
--   richmenu_linked or richmenu_unlinked is recorded for each recipient (a trigger on the
--   delivery's status).
-- * Rich menu batches are not messages: the report's sent counts (report_sent) leave them out.

alter table outbox_batches drop constraint if exists outbox_batches_kind;
alter table outbox_batches add constraint outbox_batches_kind
  check (kind in ('push', 'multicast', 'richmenu_link', 'richmenu_unlink')) not valid;
alter table outbox_batches validate constraint outbox_batches_kind;
comment on column outbox_batches.kind is 'push or multicast: messages; richmenu_link or richmenu_unlink: an action step''s rich menu change (messages holds [{"type": "richmenu", "richMenuId" | "alias" | "unlink"}]; LINE has no retry key for it, and needs none: linking the same menu twice is harmless).';

alter table deliveries drop constraint if exists deliveries_kind;
alter table deliveries add constraint deliveries_kind check (kind in ('send', 'expire', 'fail', 'act')) not valid;
alter table deliveries validate constraint deliveries_kind;
comment on column deliveries.kind is 'send: a message step; act: an action step (its rich menu change, if any, is the batch_id''s); expire or fail: a step skipped, with the reason.';

-- The user's tags as a JSON array of distinct strings (a single string counts as one tag).
create or replace function lsd_tags_of(attrs jsonb) returns jsonb
language sql immutable as $$
  select coalesce((
    select jsonb_agg(t order by first_at)
    from (select t, min(n) as first_at
          from jsonb_array_elements_text(case jsonb_typeof(attrs->'tags')
                                           when 'array' then (select coalesce(jsonb_agg(v), '[]'::jsonb) from jsonb_array_elements(attrs->'tags') v where jsonb_typeof(v) = 'string')
                                           when 'string' then jsonb_build_array(attrs->'tags')
                                           else '[]'::jsonb end) with ordinality as x(t, n)
          group by t) d), '[]'::jsonb)
$$;

-- Applies one action step's change of tags and attributes to its user, records the events,
-- and returns null, or why it could not (then nothing changed). a: one element of plans[].acts.
create or replace function lsd_apply_act(a jsonb, now_ts timestamptz) returns text
language plpgsql as $$
declare
  user_ text := a->>'line_user_id';
  adds jsonb := coalesce(a#>'{tags,add}', '[]');
  removes jsonb := coalesce(a#>'{tags,remove}', '[]');
  sets jsonb := coalesce(a#>'{attributes,set}', '{}');
  clears jsonb := coalesce(a#>'{attributes,clear}', '[]');
  attrs jsonb;
  old_tags jsonb;
  new_tags jsonb;
  key_ text := 'step:' || (a->>'enrollment_id') || ':' || (a->>'step_id') || ':' || (a->>'due_at');
begin
  insert into line_users (line_user_id) values (user_) on conflict (line_user_id) do nothing;
  select attributes into attrs from line_users where line_user_id = user_ for update;
  old_tags := lsd_tags_of(attrs);
  select coalesce(jsonb_agg(t order by n), '[]'::jsonb) into new_tags
  from (select t, min(n) as n
        from jsonb_array_elements_text(old_tags || adds) with ordinality as x(t, n)
        where not (removes ? t) group by t) d;
  if jsonb_array_length(new_tags) > 100 then
    return format('the user would have %s tags; at most 100 are kept', jsonb_array_length(new_tags));
  end if;

  insert into events (line_user_id, type, properties, occurred_at, source, idempotency_key)
  select user_, e.type, e.props || jsonb_build_object('scenario', a->>'scenario_id', 'step', a->>'step_id'),
         lsd_ts(a->'due_at'), 'step', key_ || ':' || e.type || ':' || e.name
  from (
    select 'tag_added' as type, t as name, jsonb_build_object('tag', t) as props, n
    from jsonb_array_elements_text(adds) with ordinality as x(t, n) where not (old_tags ? t) and not (removes ? t)
    union all
    select 'tag_removed', t, jsonb_build_object('tag', t), 100 + n
    from jsonb_array_elements_text(removes) with ordinality as x(t, n) where old_tags ? t
    union all
    select 'attribute_cleared', k, jsonb_build_object('name', k), 200 + n
    from jsonb_array_elements_text(clears) with ordinality as x(k, n) where attrs ? k and not (sets ? k)
    union all
    select 'attribute_set', k, jsonb_build_object('name', k, 'value', v), 300
    from jsonb_each(sets) as s(k, v) where attrs->k is distinct from v) e
  order by e.n, e.name
  on conflict (idempotency_key) do nothing;

  update line_users set
    attributes = case when jsonb_array_length(adds) + jsonb_array_length(removes) > 0
                      then jsonb_set((attrs - array(select jsonb_array_elements_text(clears))) || sets, '{tags}', new_tags)
                      else (attrs - array(select jsonb_array_elements_text(clears))) || sets end,
    updated_at = now_ts
  where line_user_id = user_;
  return null;
end $$;

-- Commits the plans of claimed enrollments (as in 20261125000002), and the action steps of
-- those plans (plans[].acts: [{enrollment_id, scenario_id, step_id, line_user_id, due_at,
-- tags: {add, remove}, attributes: {set, clear}, batch_id}], batch_id naming the rich menu
-- batch of this commit the user is in, or null). Rich menu batches keep their kind (one
-- recipient or 500: per-user or bulk endpoint, chosen when sent); their deliveries are of
-- kind act.
create or replace function lsd_commit_plans(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_owned integer;
  n_batches integer;
  n_plans integer := jsonb_array_length(coalesce(p->'plans', '[]'));
  owned_ids uuid[];
  a jsonb;
  d_id bigint;
  why text;
  n_acts integer := 0;
  n_failed integer := 0;
begin
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
    select b.id as batch_id, b.scenario_id, b.step_id, b.kind, o.id as enrollment_id, mm->>'line_user_id' as line_user_id, lsd_ts(mm->'due_at') as due_at
    from b cross join lateral jsonb_array_elements(b.members) mm
    join owned o on o.id = (mm->>'enrollment_id')::uuid),
  added as (
    insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, batch_id, status, created_at)
    select enrollment_id, scenario_id, step_id, line_user_id,
           case when kind in ('richmenu_link', 'richmenu_unlink') then 'act' else 'send' end, due_at, batch_id, 'pending', now_ts from m
    on conflict on constraint deliveries_once do nothing
    returning batch_id, line_user_id),
  grouped as (
    select batch_id, array_agg(line_user_id) as recipients from added group by batch_id),
  inserted as (
    insert into outbox_batches (id, scenario_id, step_id, kind, messages, recipients, aggregation_unit, created_at, updated_at)
    select b.id, b.scenario_id, b.step_id,
           case when b.kind in ('push', 'multicast') and cardinality(g.recipients) = 1 then 'push' else b.kind end,
           b.messages, g.recipients, b.aggregation_unit, now_ts, now_ts
    from b join grouped g on g.batch_id = b.id
    returning 1)
  select (select count(*) from owned), (select count(*) from inserted), (select array_agg(id) from owned)
    into n_owned, n_batches, owned_ids;

  -- Action steps, in plan order: once each (the delivery this commit wrote, or nothing).
  for a in
    select x.act
    from jsonb_array_elements(coalesce(p->'plans', '[]')) with ordinality as pl(plan, i)
    cross join lateral jsonb_array_elements(coalesce(pl.plan->'acts', '[]')) with ordinality as x(act, j)
    where (x.act->>'enrollment_id')::uuid = any(owned_ids)
    order by pl.i, x.j
  loop
    d_id := null;
    if a->'batch_id' is null or jsonb_typeof(a->'batch_id') = 'null' then
      insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, created_at, sent_at)
      values ((a->>'enrollment_id')::uuid, a->>'scenario_id', a->>'step_id', a->>'line_user_id', 'act', lsd_ts(a->'due_at'), 'sent', now_ts, now_ts)
      on conflict on constraint deliveries_once do nothing
      returning id into d_id;
    else
      select id into d_id from deliveries
      where enrollment_id = (a->>'enrollment_id')::uuid and step_id = a->>'step_id' and due_at = lsd_ts(a->'due_at')
        and batch_id = (a->>'batch_id')::uuid;
    end if;
    continue when d_id is null;
    n_acts := n_acts + 1;
    why := lsd_apply_act(a, now_ts);
    continue when why is null;
    -- The step fails for this user alone: no change, and no rich menu change either.
    n_failed := n_failed + 1;
    if a->'batch_id' is not null and jsonb_typeof(a->'batch_id') <> 'null' then
      perform lsd_skip_recipients(jsonb_build_array(jsonb_build_object('batch_id', a->>'batch_id', 'line_user_id', a->>'line_user_id', 'reason', why)), now_ts);
    end if;
    update deliveries set kind = 'fail', status = 'skipped', reason = why, sent_at = null where id = d_id;
  end loop;

  return jsonb_build_object('committed', n_owned, 'lost', n_plans - n_owned, 'batches', n_batches, 'acts', n_acts, 'acts_failed', n_failed);
end $$;

-- Drops recipients from pending batches (as in 20261126000050); a rich menu batch keeps its
-- kind when one recipient is left (the per-user endpoint is chosen when it is sent).
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
      kind = case when cardinality(b.recipients) - g.n = 1 and b.kind = 'multicast' then 'push' else b.kind end,
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

-- The report's sent and refused recipients (as in 20261129000002): messages only.
create or replace function lsd_count_sent() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into report_sent as r (scenario_id, step_id, aggregation_unit, bucket, sent, failed)
    select n.scenario_id, n.step_id, coalesce(n.aggregation_unit, ''),
           date_bin('15 minutes', case when n.status = 'sent' then coalesce(n.sent_at, n.updated_at) else n.updated_at end,
                    timestamptz '2000-01-01 00:00:00+00'),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'sent'), 0),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'failed'), 0)
    from new_rows n where n.status in ('sent', 'failed') and n.kind in ('push', 'multicast')
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (scenario_id, step_id, aggregation_unit, bucket) do update
      set sent = r.sent + excluded.sent, failed = r.failed + excluded.failed;
  else
    insert into report_sent as r (scenario_id, step_id, aggregation_unit, bucket, sent, failed)
    select n.scenario_id, n.step_id, coalesce(n.aggregation_unit, ''),
           date_bin('15 minutes', case when n.status = 'sent' then coalesce(n.sent_at, n.updated_at) else n.updated_at end,
                    timestamptz '2000-01-01 00:00:00+00'),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'sent'), 0),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'failed'), 0)
    from new_rows n join old_rows o on o.id = n.id
    where n.status in ('sent', 'failed') and o.status is distinct from n.status and n.kind in ('push', 'multicast')
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (scenario_id, step_id, aggregation_unit, bucket) do update
      set sent = r.sent + excluded.sent, failed = r.failed + excluded.failed;
  end if;
  return null;
end $$;

-- LINE accepted a rich menu change: the event for the recipient (once, by its key).
create or replace function lsd_record_rich_menu_event() returns trigger
language plpgsql as $$
begin
  insert into events (line_user_id, type, properties, occurred_at, source, idempotency_key)
  select new.line_user_id,
         case b.kind when 'richmenu_link' then 'richmenu_linked' else 'richmenu_unlinked' end,
         jsonb_strip_nulls(jsonb_build_object('richMenuId', b.messages->0->>'richMenuId', 'alias', b.messages->0->>'alias',
                                              'scenario', new.scenario_id, 'step', new.step_id)),
         coalesce(new.sent_at, now()), 'step',
         'step:' || new.enrollment_id || ':' || new.step_id || ':' || lsd_ms(new.due_at) || ':' || b.kind
  from outbox_batches b where b.id = new.batch_id and b.kind in ('richmenu_link', 'richmenu_unlink')
  on conflict (idempotency_key) do nothing;
  return null;
end $$;
drop trigger if exists deliveries_rich_menu_event on deliveries;
create trigger deliveries_rich_menu_event after update of status on deliveries
  for each row when (new.kind = 'act' and new.status = 'sent' and old.status is distinct from 'sent' and new.batch_id is not null)
  execute function lsd_record_rich_menu_event();

select lsd_secure_functions();
select lsd_migration_applied('20261203000001_action_steps.sql');
