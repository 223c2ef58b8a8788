CREATE OR REPLACE FUNCTION public.lsd_retention_replies(now_ts timestamp with time zone, cutoff timestamp with time zone, lim integer)
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
    delete from replies r where r.event_key in (
      select x.event_key from replies x where x.created_at < cutoff and x.status <> 'sending'
      order by x.created_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $function$;
