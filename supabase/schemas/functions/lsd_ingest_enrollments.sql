-- The users' enrollments routing needs: every active one (one per scenario and key), and
-- the latest ended one per scenario and key for re-entry rules.
CREATE OR REPLACE FUNCTION public.lsd_ingest_enrollments(users_ text[])
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'scenario_id', x.scenario_id, 'line_user_id', x.line_user_id, 'status', x.status, 'entered_at', lsd_ms(x.entered_at), 'waiting_for', x.waiting_for, 'enrollment_key', x.enrollment_key)), '[]'::jsonb)
  from (select distinct on (line_user_id, scenario_id, enrollment_key, status = 'active') *
        from enrollments where line_user_id = any(users_)
        order by line_user_id, scenario_id, enrollment_key, status = 'active', entered_at desc) x
$function$;
