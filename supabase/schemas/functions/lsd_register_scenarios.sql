-- Registers the scenario definitions of this run; moves enrollments planned with an older
-- definition to "due now" (a page at a time), so a retimed step applies at once.
--   present: the ids of every scenario file of this run (default: the ones registered). A
--            run limited to one scenario registers only that one but names them all, so
--            the others are neither updated nor taken for missing.
-- Returns, besides each registered scenario's first run:
--   missing: registered scenarios with no file and not retired, with their last
--            definition (events are still routed by it) and how many users are inside;
--   retired_absent: retired scenarios with no file that still have users inside (the
--            tick ends their enrollments).
CREATE OR REPLACE FUNCTION public.lsd_register_scenarios(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  lim integer := coalesce((p->>'reschedule_limit')::integer, 5000);
  dry boolean := coalesce((p->>'dry')::boolean, false);
  present text[] := coalesce((select array_agg(x) from jsonb_array_elements_text(p->'present') x),
                             (select array_agg(x->>'id') from jsonb_array_elements(p->'scenarios') x), '{}');
  s jsonb;
  moved integer;
  total_moved integer := 0;
  out jsonb := '[]'::jsonb;
  row_ scenarios;
begin
  if dry then
    -- Plan-only runs write nothing: a scenario not seen before counts as switched on now.
    out := coalesce((
      select jsonb_agg(jsonb_build_object('id', x->>'id', 'activated_at', coalesce(lsd_ms(sc.activated_at), (p->'now')::numeric)))
      from jsonb_array_elements(p->'scenarios') x left join scenarios sc on sc.scenario_id = x->>'id'), '[]'::jsonb);
  else
    for s in select * from jsonb_array_elements(p->'scenarios') loop
      insert into scenario_versions (scenario_id, hash, version, definition, first_seen_at)
      values (s->>'id', s->>'hash', (s->>'version')::integer, s->'definition', now_ts)
      on conflict do nothing;
      insert into scenarios (scenario_id, current_hash, version, activated_at, rescheduled_hash, updated_at)
      values (s->>'id', s->>'hash', (s->>'version')::integer, now_ts, s->>'hash', now_ts)
      on conflict (scenario_id) do update
        set current_hash = excluded.current_hash, version = excluded.version, updated_at = excluded.updated_at
        where scenarios.current_hash <> excluded.current_hash;
      -- Retired is what the file says now (an earlier retirement is undone by a file that is active again).
      if s->'definition'->>'status' = 'retired' then
        update scenarios set retired_at = now_ts where scenario_id = s->>'id' and retired_at is null;
      else
        update scenarios set retired_at = null where scenario_id = s->>'id' and retired_at is not null;
      end if;
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

    -- A retired scenario whose file is gone too: its users are brought due, a page at a
    -- time, so the tick ends their enrollments.
    for row_ in
      select * from scenarios
      where scenario_id <> all(present) and retired_at is not null and rescheduled_hash is distinct from current_hash
    loop
      update enrollments set due_at = now_ts, updated_at = now_ts
      where id in (
        select id from enrollments
        where status = 'active' and scenario_id = row_.scenario_id and due_at > now_ts
        limit lim for update skip locked);
      get diagnostics moved = row_count;
      total_moved := total_moved + moved;
      if moved < lim then
        update scenarios set rescheduled_hash = current_hash where scenario_id = row_.scenario_id;
      end if;
    end loop;
  end if;

  return jsonb_build_object(
    'scenarios', out,
    'rescheduled', total_moved,
    'missing', coalesce((
      select jsonb_agg(jsonb_build_object('id', sc.scenario_id, 'hash', sc.current_hash, 'definition', v.definition,
               'activated_at', lsd_ms(sc.activated_at), 'users_inside', inside.n) order by sc.scenario_id)
      from scenarios sc
      left join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
      cross join lateral (select count(*) as n from enrollments e where e.scenario_id = sc.scenario_id and e.status = 'active') inside
      where sc.scenario_id <> all(present) and sc.retired_at is null), '[]'::jsonb),
    'retired_absent', coalesce((
      select jsonb_agg(jsonb_build_object('id', sc.scenario_id, 'users_inside', inside.n) order by sc.scenario_id)
      from scenarios sc
      cross join lateral (select count(*) as n from enrollments e where e.scenario_id = sc.scenario_id and e.status = 'active') inside
      where sc.scenario_id <> all(present) and sc.retired_at is not null and inside.n > 0), '[]'::jsonb));
end $function$;
