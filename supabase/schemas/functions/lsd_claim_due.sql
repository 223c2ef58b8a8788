-- Claims a page of due enrollments with a lease, with everything the planner needs.
-- scenario_ids (optional): only enrollments of these scenarios (a run limited to one
-- scenario; the enrollments of a scenario whose file is missing are held).
CREATE OR REPLACE FUNCTION public.lsd_claim_due(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
AS $function$
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
end $function$;
