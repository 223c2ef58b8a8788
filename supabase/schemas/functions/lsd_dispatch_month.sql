-- Billed Actions minutes of the month holding now_ts: each runs row is a job, billed in whole
-- minutes, with the job's own start (checkout, setup) estimated as overhead seconds.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_month(now_ts timestamp with time zone, overhead integer)
 RETURNS TABLE(runs bigint, minutes bigint)
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select count(*), coalesce(sum(ceil((extract(epoch from coalesce(finished_at, greatest(heartbeat_at, started_at)) - started_at) + overhead) / 60.0)), 0)::bigint
  from runs
  where started_at >= date_trunc('month', now_ts at time zone 'UTC') at time zone 'UTC' and started_at <= now_ts
$function$;
