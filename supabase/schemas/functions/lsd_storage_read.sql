CREATE OR REPLACE FUNCTION public.lsd_storage_read(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := coalesce(lsd_ts(p->'now'), now());
  then_ lsd_storage_samples;
begin
  select * into then_ from lsd_storage_samples
  where day <= (now_ts at time zone 'UTC')::date - 30 order by day desc limit 1;
  if then_.day is null then
    select * into then_ from lsd_storage_samples where day < (now_ts at time zone 'UTC')::date order by day limit 1;
  end if;
  return jsonb_build_object('bytes', pg_database_size(current_database()), 'then_bytes', then_.bytes, 'then_at', lsd_ms(then_.sampled_at));
end $function$;
