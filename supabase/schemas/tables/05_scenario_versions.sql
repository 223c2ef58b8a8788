create table if not exists scenario_versions (
  scenario_id text not null,
  hash text not null,
  version integer not null,
  definition jsonb not null,
  first_seen_at timestamp with time zone default now() not null,
  constraint scenario_versions_pkey PRIMARY KEY (scenario_id, hash)
);
alter table scenario_versions enable row level security;
comment on table scenario_versions is 'Every definition of every scenario the engine has run, so that enrollments placed by an older one can be moved on after an edit.';
