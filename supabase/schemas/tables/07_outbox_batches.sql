create table if not exists outbox_batches (
  id uuid default gen_random_uuid() not null,
  scenario_id text not null,
  step_id text not null,
  kind text not null,
  messages jsonb not null,
  recipients text[] not null,
  aggregation_unit text,
  status text default 'pending'::text not null,
  attempts integer default 0 not null,
  first_attempt_at timestamp with time zone,
  last_attempt_at timestamp with time zone,
  lease_owner text,
  lease_until timestamp with time zone,
  sent_at timestamp with time zone,
  line_request_id text,
  error jsonb,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  attempt_started_at timestamp with time zone,
  uncertain_since timestamp with time zone,
  constraint outbox_batches_kind CHECK ((kind = ANY (ARRAY['push'::text, 'multicast'::text, 'richmenu_link'::text, 'richmenu_unlink'::text]))),
  constraint outbox_batches_recipients CHECK (((cardinality(recipients) >= 1) AND (cardinality(recipients) <= 500))),
  constraint outbox_batches_status CHECK ((status = ANY (ARRAY['pending'::text, 'sent'::text, 'failed'::text, 'needs_review'::text, 'skipped'::text]))),
  constraint outbox_batches_pkey PRIMARY KEY (id)
);
alter table outbox_batches enable row level security;
comment on table outbox_batches is 'LINE requests to make, written in the same transaction that advances the enrollments. id is the X-Line-Retry-Key: a resend within 24 hours is answered 409 and counted as sent.';
comment on column outbox_batches.kind is 'push or multicast: messages; richmenu_link or richmenu_unlink: an action step''s rich menu change (messages holds [{"type": "richmenu", "richMenuId" | "alias" | "unlink"}]; LINE has no retry key for it, and needs none: linking the same menu twice is harmless).';
comment on column outbox_batches.status is 'pending: to send; sent; failed: LINE refused it (see error); needs_review: still pending past the retry-key window, so a resend could duplicate: a person decides; skipped: every recipient left before it was sent (deliveries.reason says why).';
CREATE INDEX outbox_attempting ON public.outbox_batches USING btree (lease_until) WHERE ((status = 'pending'::text) AND (attempt_started_at IS NOT NULL));
CREATE INDEX outbox_failed ON public.outbox_batches USING btree (updated_at) WHERE (status = 'failed'::text);
CREATE INDEX outbox_open_multicasts ON public.outbox_batches USING btree (scenario_id, step_id, created_at) WHERE ((status = 'pending'::text) AND (kind = 'multicast'::text) AND (attempts = 0));
CREATE INDEX outbox_pending ON public.outbox_batches USING btree (created_at) WHERE (status = 'pending'::text);
CREATE INDEX outbox_review ON public.outbox_batches USING btree (created_at) WHERE (status = 'needs_review'::text);
CREATE INDEX outbox_sent ON public.outbox_batches USING btree (sent_at) WHERE (status = 'sent'::text);
CREATE INDEX outbox_skipped ON public.outbox_batches USING btree (updated_at) WHERE (status = 'skipped'::text);
CREATE INDEX outbox_uncertain ON public.outbox_batches USING btree (uncertain_since) WHERE ((status = 'pending'::text) AND (uncertain_since IS NOT NULL));
