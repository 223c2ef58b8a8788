-- The tick's heartbeat: renewed while it runs, so the dispatcher starts no run beside it.
CREATE OR REPLACE FUNCTION public.lsd_run_heartbeat(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  update runs set heartbeat_at = coalesce(lsd_dispatch_instant(p->'now'), now()) where id = (p->>'id')::uuid and finished_at is null;
  return '{}'::jsonb;
end $function$;
