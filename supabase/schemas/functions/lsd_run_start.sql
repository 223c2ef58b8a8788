-- The heartbeat: records a tick and returns the one before it.
CREATE OR REPLACE FUNCTION public.lsd_run_start(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  prev runs;
  id_ uuid;
begin
  select * into prev from runs where shard_index = coalesce((p->>'shard_index')::integer, 0) order by started_at desc limit 1;
  insert into runs (started_at, shard_index, shard_count, dry_run, trigger)
  values (lsd_ts(p->'now'), coalesce((p->>'shard_index')::integer, 0), coalesce((p->>'shard_count')::integer, 1), coalesce((p->>'dry_run')::boolean, false), p->>'trigger')
  returning id into id_;
  return jsonb_build_object('id', id_, 'previous_started_at', lsd_ms(prev.started_at), 'previous_status', prev.status);
end $function$;
