-- line-step-delivery: retention removes a settled batch whose deliveries are kept (issue 22
-- item 3). lsd_keep_deliveries_linked (20261125000002_engine_functions.sql) refuses to
-- delete a batch that deliveries still point at; a delivery is kept as long as its
-- enrollment, so a batch past the retention period is unlinked from its deliveries first,
-- in the same statement: the delivery keeps what the user was sent (step, moment, status,
-- sent_at), the batch's request (its messages, LINE's request id) goes. Redefines
-- lsd_retention_batches (newest in 20261207000600_retention.sql, jit off in ...605).

create or replace function lsd_retention_batches(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off set jit = off as $$
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
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000606_retention_batches_keep_deliveries.sql');
