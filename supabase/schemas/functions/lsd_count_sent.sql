-- The report's sent and refused recipients (as in 20261129000002): messages only.
CREATE OR REPLACE FUNCTION public.lsd_count_sent()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  if tg_op = 'INSERT' then
    insert into report_sent as r (scenario_id, step_id, aggregation_unit, bucket, sent, failed)
    select n.scenario_id, n.step_id, coalesce(n.aggregation_unit, ''),
           date_bin('15 minutes', case when n.status = 'sent' then coalesce(n.sent_at, n.updated_at) else n.updated_at end,
                    timestamptz '2000-01-01 00:00:00+00'),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'sent'), 0),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'failed'), 0)
    from new_rows n where n.status in ('sent', 'failed') and n.kind in ('push', 'multicast')
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (scenario_id, step_id, aggregation_unit, bucket) do update
      set sent = r.sent + excluded.sent, failed = r.failed + excluded.failed;
  else
    insert into report_sent as r (scenario_id, step_id, aggregation_unit, bucket, sent, failed)
    select n.scenario_id, n.step_id, coalesce(n.aggregation_unit, ''),
           date_bin('15 minutes', case when n.status = 'sent' then coalesce(n.sent_at, n.updated_at) else n.updated_at end,
                    timestamptz '2000-01-01 00:00:00+00'),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'sent'), 0),
           coalesce(sum(cardinality(n.recipients)) filter (where n.status = 'failed'), 0)
    from new_rows n join old_rows o on o.id = n.id
    where n.status in ('sent', 'failed') and o.status is distinct from n.status and n.kind in ('push', 'multicast')
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (scenario_id, step_id, aggregation_unit, bucket) do update
      set sent = r.sent + excluded.sent, failed = r.failed + excluded.failed;
  end if;
  return null;
end $function$;
