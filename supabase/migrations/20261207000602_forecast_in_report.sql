-- line-step-delivery: the forecast and the database's size in the report (issue 22), read only.
--
-- lsd_forecast_definitions: the definitions in force (the current version of each
--   registered scenario): the report forecasts what the database runs, not a folder.
--   p: {}; returns [{id, definition}]
-- lsd_storage_read: the database's size and the size about 30 days back from the samples
--   the ticks record (lsd_storage), without recording one: for the report, which writes nothing.
--   p: {now (epoch ms)}; returns {bytes, then_bytes, then_at (epoch ms) or null}

create or replace function lsd_forecast_definitions(p jsonb) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', sc.scenario_id, 'definition', v.definition) order by sc.scenario_id), '[]'::jsonb)
  from scenarios sc join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
$$;

create or replace function lsd_storage_read(p jsonb) returns jsonb
language plpgsql stable as $$
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
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000602_forecast_in_report.sql');
