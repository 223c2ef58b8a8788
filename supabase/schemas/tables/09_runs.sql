create table if not exists runs (
  id uuid default gen_random_uuid() not null,
  started_at timestamp with time zone not null,
  finished_at timestamp with time zone,
  shard_index integer default 0 not null,
  shard_count integer default 1 not null,
  dry_run boolean default false not null,
  trigger text,
  counts jsonb default '{}'::jsonb not null,
  status text default 'running'::text not null,
  heartbeat_at timestamp with time zone,
  constraint runs_pkey PRIMARY KEY (id)
);
alter table runs enable row level security;
comment on table runs is 'One row per tick: the heartbeat that shows late and missed schedules.';
comment on column runs.heartbeat_at is 'Renewed while a tick runs (lsd_run_heartbeat): the dispatcher starts no run while a tick''s heartbeat is recent.';
CREATE INDEX runs_open ON public.runs USING btree (started_at) WHERE (finished_at IS NULL);
CREATE INDEX runs_started ON public.runs USING btree (started_at DESC);
