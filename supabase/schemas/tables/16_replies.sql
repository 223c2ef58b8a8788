-- One row per follow the webhook considered replying to (keyed by the follow event's
-- idempotency key, so a redelivered webhook replies once), with what came of it.
create table if not exists replies (
  event_key text not null,
  line_user_id text not null,
  scenario_id text,
  step_id text,
  enrollment_id uuid,
  delivery_id bigint,
  status text not null,
  reason text,
  line_request_id text,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  constraint replies_status CHECK ((status = ANY (ARRAY['sending'::text, 'sent'::text, 'failed'::text, 'unknown'::text, 'skipped'::text]))),
  constraint replies_pkey PRIMARY KEY (event_key)
);
alter table replies enable row level security;
comment on table replies is 'Welcomes by reply: sending (the reply is going), sent, failed (LINE refused it: the tick pushes the step), unknown (no answer: never pushed, at most once), skipped (no reply: the tick pushes what is due). reason says why.';
CREATE INDEX replies_recent ON public.replies USING btree (created_at);
