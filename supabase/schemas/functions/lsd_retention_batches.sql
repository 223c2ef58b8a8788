-- Settled outbox batches (sent, failed, skipped) last changed before the cutoff, oldest first.
CREATE OR REPLACE FUNCTION public.lsd_retention_batches(now_ts timestamp with time zone, cutoff timestamp with time zone, lim integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET jit TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  n integer;
begin
  with page as (
    (select id from outbox_batches where status = 'sent' and sent_at < cutoff and updated_at < cutoff
       and (lease_until is null or lease_until < now_ts) order by sent_at limit lim)
    union all
    (select id from outbox_batches where status = 'failed' and updated_at < cutoff
       and (lease_until is null or lease_until < now_ts) order by updated_at limit lim)
    union all
    (select id from outbox_batches where status = 'skipped' and updated_at < cutoff
       and (lease_until is null or lease_until < now_ts) order by updated_at limit lim)),
  chosen as materialized (
    select x.id from outbox_batches x where x.id in (select id from page limit lim) for update skip locked),
  unlinked as (update deliveries d set batch_id = null from chosen c where d.batch_id = c.id returning 1),
  gone as (delete from outbox_batches b using chosen c where b.id = c.id returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $function$;
