create table if not exists events (
  id bigint generated always as identity,
  line_user_id text,
  member_id text,
  type text not null,
  properties jsonb default '{}'::jsonb not null,
  occurred_at timestamp with time zone default now() not null,
  source text default 'unknown'::text not null,
  idempotency_key text,
  inserted_at timestamp with time zone default now() not null,
  status text default 'new'::text not null,
  status_reason text,
  processed_at timestamp with time zone,
  lease_owner text,
  lease_until timestamp with time zone,
  constraint events_status CHECK ((status = ANY (ARRAY['new'::text, 'done'::text, 'waiting_link'::text, 'set_aside'::text]))),
  constraint events_pkey PRIMARY KEY (id),
  constraint events_idempotency_key_key UNIQUE (idempotency_key)
);
alter table events enable row level security;
comment on table events is 'One row per thing that happened to a user. Insert with status new; the engine sets the rest.';
comment on column events.line_user_id is 'Who, by LINE user id. Give this or member_id.';
comment on column events.member_id is 'Who, by the shop''s member id; resolved through line_users.member_id. An event for a member not linked yet waits (status waiting_link) until the link arrives, for 30 days.';
comment on column events.type is 'follow, unfollow, cart_abandoned, purchased, shipped, survey_answered, reservation_made, account_linked, profile_updated, list_added, ... (lower snake case).';
comment on column events.properties is 'Event data, a JSON object: scenarios filter on it and fill placeholders from it (productName, reservationAt, ...).';
comment on column events.occurred_at is 'When it happened (not when it was inserted): scenarios count time from here.';
comment on column events.source is 'Where it came from: line-webhook, shop-events, shopify, csv-import, ...';
comment on column events.idempotency_key is 'Optional; a second insert with the same key is rejected, so a webhook delivered twice is one event (use ON CONFLICT DO NOTHING).';
comment on column events.status is 'new: not yet taken in; done; waiting_link: member id not linked yet; set_aside: malformed, see status_reason.';
CREATE INDEX events_follow_time ON public.events USING btree (occurred_at) WHERE (type = 'follow'::text);
CREATE INDEX events_new ON public.events USING btree (id) WHERE (status = 'new'::text);
CREATE INDEX events_new_type ON public.events USING btree (type, id) WHERE (status = 'new'::text);
CREATE INDEX events_set_aside ON public.events USING btree (inserted_at) WHERE (status = 'set_aside'::text);
CREATE INDEX events_settled ON public.events USING btree (inserted_at, id) WHERE (status = ANY (ARRAY['done'::text, 'set_aside'::text]));
CREATE INDEX events_user_time ON public.events USING btree (line_user_id, occurred_at);
CREATE INDEX events_waiting_link ON public.events USING btree (member_id) WHERE (status = 'waiting_link'::text);
