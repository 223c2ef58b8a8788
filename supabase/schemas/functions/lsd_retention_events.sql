-- Events: a page from the cursor in (inserted_at, id) order.
CREATE OR REPLACE FUNCTION public.lsd_retention_events(now_ts timestamp with time zone, cutoff timestamp with time zone, lim integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET jit TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  f record;
  last_at timestamptz;
  last_id bigint;
  examined integer;
  n integer;
begin
  select * into f from lsd_retention_from('events', now_ts);
  with page as materialized (
    select ev.id, ev.inserted_at,
           (ev.lease_until is null or ev.lease_until < now_ts)
           and not exists (select 1 from enrollments e
                           where e.line_user_id = ev.line_user_id and e.status = 'active' and e.entered_at <= ev.occurred_at)
             as removable
    from events ev
    where ev.status in ('done', 'set_aside') and ev.inserted_at < cutoff
      and (ev.inserted_at, ev.id) > (f.after_at, coalesce(f.after_id::bigint, 0))
    order by ev.inserted_at, ev.id limit lim),
  locked as (
    select x.id from events x join page p on p.id = x.id and p.removable
    where x.status in ('done', 'set_aside') for update of x skip locked),
  gone as (delete from events ev using locked l where ev.id = l.id returning 1),
  last_ as (select inserted_at, id from page order by inserted_at desc, id desc limit 1)
  select (select count(*) from page), (select count(*) from gone), (select inserted_at from last_), (select id from last_)
    into examined, n, last_at, last_id;
  perform lsd_retention_passed('events', now_ts, examined < lim, last_at, last_id::text);
  return jsonb_build_object('deleted', n, 'examined', examined, 'more', examined = lim);
end $function$;
