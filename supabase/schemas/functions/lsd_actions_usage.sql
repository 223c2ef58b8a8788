-- The Actions minutes of the runs started in [from, to): each run (each shard is a job of its
-- own) billed in whole minutes from its start to its end, at least one; a run still going
-- counts up to p.now. Plan-only runs write no row and cost nothing here.
-- {runs, billed_minutes, unfinished}
CREATE OR REPLACE FUNCTION public.lsd_actions_usage(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select jsonb_build_object(
    'runs', count(*),
    'billed_minutes', coalesce(sum(greatest(1, ceil(extract(epoch from coalesce(finished_at, lsd_ts(p->'now')) - started_at) / 60))), 0),
    'unfinished', count(*) filter (where finished_at is null))
  from runs
  where started_at >= lsd_ts(p->'from') and started_at < lsd_ts(p->'to') and not dry_run
$function$;
