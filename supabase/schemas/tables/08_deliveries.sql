create table if not exists deliveries (
  id bigint generated always as identity,
  enrollment_id uuid not null,
  scenario_id text not null,
  step_id text not null,
  line_user_id text not null,
  kind text not null,
  due_at timestamp with time zone not null,
  batch_id uuid,
  status text not null,
  reason text,
  created_at timestamp with time zone default now() not null,
  sent_at timestamp with time zone,
  constraint deliveries_kind CHECK ((kind = ANY (ARRAY['send'::text, 'expire'::text, 'fail'::text, 'act'::text, 'reply'::text, 'holdout'::text]))),
  constraint deliveries_status CHECK ((status = ANY (ARRAY['pending'::text, 'sent'::text, 'failed'::text, 'skipped'::text, 'needs_review'::text]))),
  constraint deliveries_pkey PRIMARY KEY (id),
  constraint deliveries_once UNIQUE (enrollment_id, step_id, due_at)
);
alter table deliveries set (fillfactor=85);
alter table deliveries enable row level security;
comment on table deliveries is 'What each enrollment was sent (or why a step was skipped), one row per step decision.';
comment on column deliveries.kind is 'send: a message step; act: an action step (its rich menu change, if any, is the batch_id''s); expire or fail: a step skipped, with the reason.';
CREATE INDEX deliveries_batch ON public.deliveries USING btree (batch_id) WHERE (batch_id IS NOT NULL);
CREATE INDEX deliveries_decided ON public.deliveries USING btree (created_at) WHERE (kind <> 'send'::text);
CREATE INDEX deliveries_user_recent ON public.deliveries USING btree (line_user_id, created_at) WHERE (kind = 'send'::text);
