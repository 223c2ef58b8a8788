-- What a set of users received, for the local demo and tests (never for public logs).
CREATE OR REPLACE FUNCTION public.lsd_deliveries_of(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object('line_user_id', d.line_user_id, 'scenario_id', d.scenario_id, 'step_id', d.step_id, 'kind', d.kind,
           'status', d.status, 'due_at', lsd_ms(d.due_at), 'sent_at', lsd_ms(d.sent_at), 'batch_id', d.batch_id, 'reason', d.reason)
           order by d.line_user_id, d.due_at, d.id), '[]'::jsonb)
  from deliveries d
  where d.line_user_id in (select jsonb_array_elements_text(p->'line_user_ids'))
$function$;
