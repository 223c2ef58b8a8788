create table if not exists line_unit_statistics (
  aggregation_unit text not null,
  day date not null,
  unique_impression bigint,
  unique_click bigint,
  impression bigint,
  click bigint,
  unique_media_played bigint,
  fetched_at timestamp with time zone not null,
  constraint line_unit_statistics_pkey PRIMARY KEY (aggregation_unit, day)
);
alter table line_unit_statistics enable row level security;
comment on table line_unit_statistics is 'LINE''s statistics per aggregation unit (one per scenario step) for the messages sent on one day (UTC+9, LINE''s days). Null: LINE hides counts under 20. Refreshed by the report until a few days after the day.';
comment on column line_unit_statistics.unique_impression is 'Users who opened the message (displayed at least one bubble).';
comment on column line_unit_statistics.unique_click is 'Users who opened any URL in the message.';
