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
  constraint runs_pkey PRIMARY KEY (id)
);
alter table runs enable row level security;
comment on table runs is 'One row per tick: the heartbeat that shows late and missed schedules.';
CREATE INDEX runs_started ON public.runs USING btree (started_at DESC);
