-- Which units and UTC+9 days to read back from LINE (see 20261129000001_report.sql).
CREATE OR REPLACE FUNCTION public.lsd_unit_stats_due(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  f timestamptz := lsd_ts(p->'from');
  t timestamptz := lsd_ts(p->'to');
  now_ts timestamptz := lsd_ts(p->'now');
  lim integer := coalesce((p->>'limit')::integer, 200);
  settle interval := make_interval(days => coalesce((p->>'settle_days')::integer, 3));
  refresh interval := make_interval(hours => coalesce((p->>'refresh_hours')::integer, 6));
  due jsonb;
  n integer;
begin
  with sent_days as (
    select distinct r.aggregation_unit as unit, (r.bucket at time zone 'Asia/Tokyo')::date as day
    from report_sent r
    where r.sent > 0 and r.aggregation_unit <> '' and r.bucket >= lsd_bucket(f) and r.bucket < t),
  wanted as (
    select s.unit, s.day, st.fetched_at
    from sent_days s left join line_unit_statistics st on st.aggregation_unit = s.unit and st.day = s.day
    where st.fetched_at is null
       or (st.fetched_at < ((s.day + 1)::timestamp at time zone 'Asia/Tokyo') + settle and st.fetched_at < now_ts - refresh)
    order by st.fetched_at nulls first, s.day desc, s.unit
    limit lim + 1)
  select coalesce(jsonb_agg(jsonb_build_object('unit', unit, 'day', to_char(day, 'YYYYMMDD'))), '[]'::jsonb), count(*)
    into due, n from wanted;
  if n > lim then due := due - lim; end if;
  return jsonb_build_object('due', due, 'more', n > lim);
end $function$;
