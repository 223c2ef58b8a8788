-- The database's size now, recorded once a day, and a sample about 30 days back to measure
-- its growth against (the oldest one when the record is younger).
--   p: {now (epoch ms)}; returns {bytes, then_bytes, then_at (epoch ms) or null}
CREATE OR REPLACE FUNCTION public.lsd_storage(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := coalesce(lsd_ts(p->'now'), now());
  size_ bigint := pg_database_size(current_database());
  then_ lsd_storage_samples;
begin
  insert into lsd_storage_samples (day, bytes, sampled_at) values ((now_ts at time zone 'UTC')::date, size_, now_ts)
  on conflict (day) do update set bytes = excluded.bytes, sampled_at = excluded.sampled_at;
  select * into then_ from lsd_storage_samples
  where day <= (now_ts at time zone 'UTC')::date - 30 order by day desc limit 1;
  if then_.day is null then
    select * into then_ from lsd_storage_samples order by day limit 1;
  end if;
  -- A year of samples is enough to measure a month's growth.
  delete from lsd_storage_samples where day < (now_ts at time zone 'UTC')::date - 400;
  return jsonb_build_object('bytes', size_, 'then_bytes', then_.bytes, 'then_at', lsd_ms(then_.sampled_at));
end $function$;
