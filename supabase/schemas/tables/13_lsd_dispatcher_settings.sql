create table if not exists lsd_dispatcher_settings (
  id boolean default true not null,
  owner text not null,
  repo text not null,
  workflow text not null,
  ref text default 'main'::text not null,
  inputs jsonb default '{"run-mode": "send"}'::jsonb not null,
  min_gap_seconds integer default 120 not null,
  budget_minutes integer,
  public_repository boolean default false not null,
  enabled boolean default true not null,
  stale_tick_seconds integer default 900 not null,
  start_timeout_seconds integer default 600 not null,
  run_overhead_seconds integer default 30 not null,
  refusal_backoff_seconds integer default 900 not null,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  last_decided_at timestamp with time zone,
  last_wait_reason text,
  constraint lsd_dispatcher_settings_inputs CHECK ((jsonb_typeof(inputs) = 'object'::text)),
  constraint lsd_dispatcher_settings_one_row CHECK (id),
  constraint lsd_dispatcher_settings_pkey PRIMARY KEY (id)
);
alter table lsd_dispatcher_settings enable row level security;
comment on table lsd_dispatcher_settings is 'The dispatcher''s one row of settings (lsd_dispatcher_setup). The GitHub token is never here: it is the dispatch function''s secret.';
comment on column lsd_dispatcher_settings.budget_minutes is 'Billed Actions minutes a month the dispatcher spaces its starts to stay within; null: no budget. Ignored for a public repository (minutes are free).';
comment on column lsd_dispatcher_settings.last_decided_at is 'The last time lsd_dispatch_decide ran with record: an old value means the pg_cron job is not running.';
