create table if not exists enrollments (
  id uuid default gen_random_uuid() not null,
  scenario_id text not null,
  line_user_id text not null,
  status text default 'active'::text not null,
  step_id text not null,
  entered_at timestamp with time zone not null,
  previous_at timestamp with time zone not null,
  wait_started_at timestamp with time zone,
  waiting_for text,
  due_at timestamp with time zone,
  trigger jsonb default '{}'::jsonb not null,
  trigger_event_id bigint,
  scenario_hash text not null,
  shard_key integer not null,
  converted_at timestamp with time zone,
  exit_reason text,
  lease_owner text,
  lease_until timestamp with time zone,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  ended_at timestamp with time zone,
  enrollment_key text,
  constraint enrollments_status CHECK ((status = ANY (ARRAY['active'::text, 'finished'::text, 'exited'::text]))),
  constraint enrollments_pkey PRIMARY KEY (id)
);
alter table enrollments set (fillfactor=80);
alter table enrollments enable row level security;
comment on table enrollments is 'A user''s place in a scenario: the step to do next and when it is due.';
comment on column enrollments.due_at is 'When the engine next looks at this enrollment (infinity while the scenario is paused).';
comment on column enrollments.shard_key is 'A stable hash of the user (0-1023): a matrix of N ticks takes shard_key % N.';
comment on column enrollments.enrollment_key is 'The value of the scenario''s entry.key in the trigger (a reservation id, a shipment id); null without a key. One active enrollment per scenario, user and key.';
CREATE INDEX enrollments_due ON public.enrollments USING btree (due_at, id) WHERE (status = 'active'::text);
CREATE INDEX enrollments_ended ON public.enrollments USING btree (ended_at, id) WHERE (status <> 'active'::text);
CREATE INDEX enrollments_entered ON public.enrollments USING btree (scenario_id, entered_at);
CREATE UNIQUE INDEX enrollments_one_active_per_key ON public.enrollments USING btree (scenario_id, line_user_id, enrollment_key) NULLS NOT DISTINCT WHERE (status = 'active'::text);
CREATE INDEX enrollments_user ON public.enrollments USING btree (line_user_id, scenario_id);
