CREATE OR REPLACE FUNCTION public.lsd_run_finish(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  update runs set finished_at = lsd_ts(p->'now'), counts = coalesce(p->'counts', '{}'), status = coalesce(p->>'status', 'ok')
  where id = (p->>'id')::uuid;
  return jsonb_build_object(
    'needs_review', (select count(*) from outbox_batches where status = 'needs_review'),
    'set_aside_recent', (select count(*) from events where status = 'set_aside' and inserted_at > lsd_ts(p->'now') - interval '7 days'),
    'waiting_link', (select count(*) from events where status = 'waiting_link'),
    'pending_batches', (select count(*) from outbox_batches where status = 'pending'));
end $function$;
