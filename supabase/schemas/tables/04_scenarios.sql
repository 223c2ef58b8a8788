create table if not exists scenarios (
  scenario_id text not null,
  current_hash text not null,
  version integer not null,
  activated_at timestamp with time zone not null,
  updated_at timestamp with time zone default now() not null,
  rescheduled_hash text,
  retired_at timestamp with time zone,
  constraint scenarios_pkey PRIMARY KEY (scenario_id)
);
alter table scenarios enable row level security;
comment on table scenarios is 'Each scenario the engine has run, with the definition now in force. activated_at: its first run (earlier events do not enroll).';
comment on column scenarios.retired_at is 'When a definition with "status": "retired" was first registered: its enrollments end and nobody enters. A registered scenario with no file and no retired_at is missing: its users are held until the file is back.';
