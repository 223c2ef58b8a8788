CREATE OR REPLACE FUNCTION public.lsd_retention_dispatches(now_ts timestamp with time zone, cutoff timestamp with time zone, lim integer)
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
  newest bigint;
begin
  select id into newest from lsd_dispatches order by decided_at desc limit 1;
  with gone as (
    delete from lsd_dispatches d where d.id in (
      select x.id from lsd_dispatches x where x.decided_at < cutoff and x.id <> newest
      order by x.decided_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $function$;
