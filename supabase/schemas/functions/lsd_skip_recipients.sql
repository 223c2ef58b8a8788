-- Drops recipients from pending batches (as in 20261126000050); a rich menu batch keeps its
-- kind when one recipient is left (the per-user endpoint is chosen when it is sent).
CREATE OR REPLACE FUNCTION public.lsd_skip_recipients(drops jsonb, now_ts timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  changed jsonb;
  dropped jsonb;
begin
  with x as materialized (
    select * from jsonb_to_recordset(drops) as x(batch_id uuid, line_user_id text, reason text)),
  skipped as (
    update deliveries d set status = 'skipped', reason = x.reason
    from x where d.batch_id = x.batch_id and d.line_user_id = x.line_user_id and d.status = 'pending'
    returning d.batch_id, d.line_user_id, d.scenario_id, d.step_id, x.reason),
  per_batch as (
    select batch_id, count(*)::integer as n, array_agg(line_user_id) as users from skipped group by batch_id),
  shrunk as (
    update outbox_batches b set
      recipients = case when cardinality(b.recipients) > g.n
                        then array(select r from unnest(b.recipients) r where r <> all(g.users)) else b.recipients end,
      kind = case when cardinality(b.recipients) - g.n = 1 and b.kind = 'multicast' then 'push' else b.kind end,
      status = case when cardinality(b.recipients) > g.n then b.status else 'skipped' end,
      error = case when cardinality(b.recipients) > g.n then b.error
                   else jsonb_build_object('message', 'every recipient left before it was sent') end,
      lease_owner = case when cardinality(b.recipients) > g.n then b.lease_owner end,
      lease_until = case when cardinality(b.recipients) > g.n then b.lease_until end,
      attempt_started_at = case when cardinality(b.recipients) > g.n then b.attempt_started_at end,
      updated_at = now_ts
    from per_batch g where b.id = g.batch_id
    returning b.id, b.recipients, b.kind, b.status)
  select (select coalesce(jsonb_agg(jsonb_build_object('id', id, 'recipients', to_jsonb(recipients), 'kind', kind, 'status', status)), '[]'::jsonb) from shrunk),
         (select coalesce(jsonb_agg(jsonb_build_object('scenario_id', scenario_id, 'step_id', step_id, 'reason', reason, 'count', n)), '[]'::jsonb)
          from (select scenario_id, step_id, reason, count(*) as n from skipped group by scenario_id, step_id, reason) s)
    into changed, dropped;
  return jsonb_build_object('batches', changed, 'skipped', dropped);
end $function$;
