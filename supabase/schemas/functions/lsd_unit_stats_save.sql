-- Stores what LINE answered for units and days.
--   p: now (epoch ms); rows: [{unit, day: "yyyyMMdd", unique_impression, unique_click,
--      impression, click, unique_media_played}] (null: LINE hides counts under 20).
CREATE OR REPLACE FUNCTION public.lsd_unit_stats_save(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  n integer;
begin
  insert into line_unit_statistics (aggregation_unit, day, unique_impression, unique_click, impression, click, unique_media_played, fetched_at)
  select x.unit, to_date(x.day, 'YYYYMMDD'), x.unique_impression, x.unique_click, x.impression, x.click, x.unique_media_played, lsd_ts(p->'now')
  from jsonb_to_recordset(coalesce(p->'rows', '[]'::jsonb))
    as x(unit text, day text, unique_impression bigint, unique_click bigint, impression bigint, click bigint, unique_media_played bigint)
  where x.unit ~ '^[A-Za-z0-9_]{1,30}$' and x.day ~ '^[0-9]{8}$'
  on conflict (aggregation_unit, day) do update set
    unique_impression = excluded.unique_impression, unique_click = excluded.unique_click, impression = excluded.impression,
    click = excluded.click, unique_media_played = excluded.unique_media_played, fetched_at = excluded.fetched_at;
  get diagnostics n = row_count;
  return jsonb_build_object('saved', n);
end $function$;
