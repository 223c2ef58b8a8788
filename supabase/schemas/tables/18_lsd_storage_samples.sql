create table if not exists lsd_storage_samples (
  day date not null,
  bytes bigint not null,
  sampled_at timestamp with time zone not null,
  constraint lsd_storage_samples_pkey PRIMARY KEY (day)
);
alter table lsd_storage_samples enable row level security;
comment on table lsd_storage_samples is 'The database''s size (pg_database_size), once a day: its growth per month and the months left on the plan.';
