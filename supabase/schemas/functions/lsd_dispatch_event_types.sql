-- The event types the scenarios in force read, and whether each can make a step due at once
-- (urgent: a trigger whose scenario's first step comes within 15 minutes, or a wait or
-- condition of a step) or only starts a later step, ends or scores an enrollment.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_event_types()
 RETURNS TABLE(type text, urgent boolean)
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  with defs as (
    select v.definition as d
    from scenarios s join scenario_versions v on v.scenario_id = s.scenario_id and v.hash = s.current_hash
    where s.retired_at is null and coalesce(v.definition->>'status', 'active') = 'active'),
  named as (
    select case d->'entry'->'trigger'->>'type'
             when 'event' then d->'entry'->'trigger'->>'event'
             when 'follow' then 'follow'
             when 'list' then 'list_added'
             when 'audience' then 'profile_updated' end as type, lsd_dispatch_first_step_soon(d) as urgent
    from defs
    union all
    select x #>> '{}', true from defs, jsonb_path_query(d, 'lax $.steps.**.event ? (@.type() == "string")') x
    union all
    select x #>> '{}', true from defs, jsonb_path_query(d, 'lax $.entry.audience.**.event ? (@.type() == "string")') x
    union all
    select x #>> '{}', false from defs, jsonb_path_query(d, 'lax $.exit.**.event ? (@.type() == "string")') x
    union all
    select x #>> '{}', false from defs, jsonb_path_query(d, 'lax $.goal.**.event ? (@.type() == "string")') x)
  select type, bool_or(urgent) from named where type is not null group by type
$function$;
