-- Commits the plans of claimed enrollments with their action steps (as in 20261203000001).
CREATE OR REPLACE FUNCTION public.lsd_commit_plans(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  n_owned integer;
  n_batches integer;
  n_plans integer := jsonb_array_length(coalesce(p->'plans', '[]'));
  owned_ids uuid[];
  held_ids uuid[];
  fresh jsonb;
  failed jsonb;
  a jsonb;
  why text;
begin
  -- The page's enrollments this tick still holds, read and locked by key (in key order: two
  -- commits wait, never deadlock). The update below then names them by key alone.
  held_ids := array(
    select e.id from enrollments e
    where e.id = any(array(select (x->>'id')::uuid from jsonb_array_elements(coalesce(p->'plans', '[]')) x))
      and e.lease_owner = owner_ and e.status = 'active'
    order by e.id for update);
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
    where e.id = any(held_ids) and e.id = x.id
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

  if not exists (select 1 from jsonb_array_elements(coalesce(p->'plans', '[]')) pl where jsonb_array_length(coalesce(pl->'acts', '[]')) > 0) then
    return jsonb_build_object('committed', n_owned, 'lost', n_plans - n_owned, 'batches', n_batches, 'acts', 0, 'acts_failed', 0);
  end if;

  -- The acts this commit does, in plan order, each once: its delivery is new (an act with
  -- no rich menu), or is the one this commit wrote in its own new batch.
  with acts as (
    select x.act, (x.act->>'enrollment_id')::uuid as eid, x.act->>'step_id' as sid, lsd_ts(x.act->'due_at') as due,
           case when jsonb_typeof(x.act->'batch_id') = 'string' then (x.act->>'batch_id')::uuid end as bid,
           row_number() over (order by pl.i, x.j) as ord
    from jsonb_array_elements(p->'plans') with ordinality as pl(plan, i)
    cross join lateral jsonb_array_elements(coalesce(pl.plan->'acts', '[]')) with ordinality as x(act, j)
    where (x.act->>'enrollment_id')::uuid = any(owned_ids)),
  ins as (
    insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, created_at, sent_at)
    select eid, act->>'scenario_id', sid, act->>'line_user_id', 'act', due, 'sent', now_ts, now_ts from acts where bid is null
    on conflict on constraint deliveries_once do nothing
    returning id, enrollment_id, step_id, due_at)
  select coalesce(jsonb_agg(a.act || jsonb_build_object('delivery_id', coalesce(i.id, d.id)) order by a.ord), '[]'::jsonb)
    into fresh
  from acts a
  left join ins i on a.bid is null and i.enrollment_id = a.eid and i.step_id = a.sid and i.due_at = a.due
  left join deliveries d on a.bid is not null and d.enrollment_id = a.eid and d.step_id = a.sid and d.due_at = a.due and d.batch_id = a.bid
  where coalesce(i.id, d.id) is not null;

  insert into line_users (line_user_id)
  select distinct f->>'line_user_id' from jsonb_array_elements(fresh) f
  on conflict (line_user_id) do nothing;

  -- Each user's first act, set-based (rows locked in key order: two commits wait, never deadlock).
  with firsts as (
    select distinct on (f->>'line_user_id') f, n from jsonb_array_elements(fresh) with ordinality as x(f, n)
    order by f->>'line_user_id', n),
  locked as (
    select u.line_user_id, u.attributes from line_users u
    where u.line_user_id in (select f->>'line_user_id' from firsts) order by u.line_user_id for update),
  r as materialized (
    select fi.f, lsd_act_change(l.attributes, fi.f) as res from firsts fi join locked l on l.line_user_id = fi.f->>'line_user_id'),
  upd as (
    update line_users u set attributes = r.res->'attributes', updated_at = now_ts
    from r where u.line_user_id = r.f->>'line_user_id' and not r.res ? 'error'
    returning 1),
  ev as (
    insert into events (line_user_id, type, properties, occurred_at, source, idempotency_key)
    select r.f->>'line_user_id', e->>'type', e->'properties', lsd_ts(r.f->'due_at'), 'step', e->>'key'
    from r cross join lateral jsonb_array_elements(r.res->'events') with ordinality as x(e, n)
    where not r.res ? 'error'
    order by r.f->>'line_user_id', x.n
    on conflict (idempotency_key) do nothing
    returning 1)
  select coalesce(jsonb_agg(r.f || jsonb_build_object('reason', r.res->>'error')), '[]'::jsonb) into failed
  from r where r.res ? 'error';

  -- A user's further acts of this page, one at a time, in plan order.
  for a in
    select x.f from jsonb_array_elements(fresh) with ordinality as x(f, n)
    where x.n not in (select distinct on (y.f->>'line_user_id') y.n from jsonb_array_elements(fresh) with ordinality as y(f, n)
                      order by y.f->>'line_user_id', y.n)
    order by x.n
  loop
    why := lsd_apply_act(a, now_ts);
    if why is not null then
      failed := failed || jsonb_build_array(a || jsonb_build_object('reason', why));
    end if;
  end loop;

  -- A failed act changes nothing, and its rich menu change is not sent: the step fails for that user alone.
  if jsonb_array_length(failed) > 0 then
    perform lsd_skip_recipients(coalesce((
      select jsonb_agg(jsonb_build_object('batch_id', f->>'batch_id', 'line_user_id', f->>'line_user_id', 'reason', f->>'reason'))
      from jsonb_array_elements(failed) f where jsonb_typeof(f->'batch_id') = 'string'), '[]'::jsonb), now_ts);
    update deliveries d set kind = 'fail', status = 'skipped', reason = f->>'reason', sent_at = null
    from jsonb_array_elements(failed) f where d.id = (f->>'delivery_id')::bigint;
  end if;

  return jsonb_build_object('committed', n_owned, 'lost', n_plans - n_owned, 'batches', n_batches,
                            'acts', jsonb_array_length(fresh), 'acts_failed', jsonb_array_length(failed));
end $function$;
