-- Runs started before the cutoff, except the newest of each shard.
CREATE OR REPLACE FUNCTION public.lsd_retention_runs(now_ts timestamp with time zone, cutoff timestamp with time zone, lim integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
 SET jit TO 'off'
AS $function$
declare
  n integer;
begin
  with gone as (
    delete from runs r where r.id in (
      select x.id from runs x
      where x.started_at < cutoff
        and exists (select 1 from runs newer where newer.started_at > x.started_at and newer.shard_index = x.shard_index)
      order by x.started_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $function$;
