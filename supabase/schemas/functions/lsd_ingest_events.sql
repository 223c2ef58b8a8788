-- {events}: the events taken in, each user-changing one with the user's facts before it
-- (the user's first change of the page) and after it. Built once at the end (appending in
-- the loop copied the page once per event).
CREATE OR REPLACE FUNCTION public.lsd_ingest_events(taken bigint[], before_ids bigint[], before_facts jsonb[], after_ids bigint[], after_facts jsonb[])
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select jsonb_build_object('events', coalesce(jsonb_agg(jsonb_build_object('id', ev.id::text, 'line_user_id', ev.line_user_id, 'type', ev.type, 'occurred_at', lsd_ms(ev.occurred_at), 'properties', ev.properties)
                            || case when b.f is null then '{}'::jsonb else jsonb_build_object('facts_before', b.f) end
                            || case when a.f is null then '{}'::jsonb else jsonb_build_object('facts_after', a.f) end order by ev.id), '[]'::jsonb))
  from events ev
  left join unnest(before_ids, before_facts) as b(id, f) on b.id = ev.id
  left join unnest(after_ids, after_facts) as a(id, f) on a.id = ev.id
  where ev.id = any(taken)
$function$;
