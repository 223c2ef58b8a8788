create table if not exists run_lateness (
  run_id uuid not null,
  at timestamp with time zone not null,
  served bigint default 0 not null,
  max_seconds double precision default 0 not null,
  earliest_due_at timestamp with time zone,
  earliest_lateness_seconds double precision,
  buckets jsonb default '{}'::jsonb not null,
  constraint run_lateness_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE,
  constraint run_lateness_pkey PRIMARY KEY (run_id)
);
alter table run_lateness enable row level security;
comment on table run_lateness is 'How late each sending tick served: steps per lateness bucket (about 5% wide, see lsd_lateness_bucket), the exact maximum, and its earliest due step. Counts only.';
CREATE INDEX run_lateness_at ON public.run_lateness USING btree (at);
