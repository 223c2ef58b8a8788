-- What lsd_claim_due would claim, without leasing it (a what-if):
--   p: {now, limit, shard_index, shard_count, event_types, cap_since, scenario_ids,
--       after_due, after_id (the cursor: the last enrollment of the previous page)}
--   or p: {ids: [enrollment ids], user_ids: [more users], since: ms, event_types, cap_since}
-- Answers as lsd_claim_due, each enrollment with its due_at.
CREATE OR REPLACE FUNCTION public.lsd_peek_due(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
AS $function$
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
end $function$;
