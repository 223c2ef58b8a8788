-- Enrollments ended before the cutoff, with their deliveries: a page from the cursor in
-- (ended_at, id) order.
CREATE OR REPLACE FUNCTION public.lsd_retention_enrollments(now_ts timestamp with time zone, cutoff timestamp with time zone, lim integer)
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
  last_id uuid;
  examined integer;
  n integer;
  d integer;
begin
  select * into f from lsd_retention_from('enrollments', now_ts);
  with page as materialized (
    select e.id, e.ended_at,
           (e.lease_until is null or e.lease_until < now_ts)
           and (e.enrollment_key is not null
                or exists (select 1 from enrollments newer
                           where newer.line_user_id = e.line_user_id and newer.scenario_id = e.scenario_id
                             and newer.enrollment_key is null and newer.entered_at > e.entered_at))
           and not exists (select 1 from deliveries dl where dl.enrollment_id = e.id and dl.status in ('pending', 'needs_review'))
             as removable
    from enrollments e
    where e.status <> 'active' and e.ended_at < cutoff
      and (e.ended_at, e.id) > (f.after_at, coalesce(f.after_id::uuid, '00000000-0000-0000-0000-000000000000'))
    order by e.ended_at, e.id limit lim),
  locked as (
    select x.id from enrollments x join page p on p.id = x.id and p.removable
    where x.status <> 'active' for update of x skip locked),
  gone as (delete from enrollments e using locked l where e.id = l.id returning e.id),
  sent as (delete from deliveries dl using gone where dl.enrollment_id = gone.id returning 1),
  last_ as (select ended_at, id from page order by ended_at desc, id desc limit 1)
  select (select count(*) from page), (select count(*) from gone), (select count(*) from sent),
         (select ended_at from last_), (select id from last_)
    into examined, n, d, last_at, last_id;
  perform lsd_retention_passed('enrollments', now_ts, examined < lim, last_at, last_id::text);
  return jsonb_build_object('deleted', n, 'deliveries', d, 'examined', examined, 'more', examined = lim);
end $function$;
