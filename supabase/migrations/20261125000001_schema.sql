-- line-step-delivery: the data contract (tables the edge hooks write and teams may read)
-- and the engine's state. Every table has RLS on and no policy: only the service role
-- (and the engine's direct connection) can read or write.

create table if not exists line_users (
  line_user_id text primary key,
  member_id text unique,
  following boolean not null default true,
  followed_at timestamptz,
  unfollowed_at timestamptz,
  follow_route text,
  attributes jsonb not null default '{}'::jsonb,
  answers jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint line_users_attributes_object check (jsonb_typeof(attributes) = 'object'),
  constraint line_users_answers_object check (jsonb_typeof(answers) = 'object')
);
comment on table line_users is 'LINE users known to the account: follow state, the shop''s member id once linked, and attributes used by scenario conditions.';
comment on column line_users.line_user_id is 'LINE user id (U followed by 32 hex digits).';
comment on column line_users.member_id is 'The shop''s own member id, set when the user links accounts (ID linking).';
comment on column line_users.following is 'False after an unfollow (block): no step is sent and every enrollment ends.';
comment on column line_users.follow_route is 'The route of the latest follow (a QR code, an ad), when known.';
comment on column line_users.attributes is 'Attributes for conditions and placeholders: gender, ageBand, os, region, tags (array), timezone (IANA), displayName, ...';
comment on column line_users.answers is 'Survey answers by question id, from survey_answered events.';

create table if not exists events (
  id bigint generated always as identity primary key,
  line_user_id text,
  member_id text,
  type text not null,
  properties jsonb not null default '{}'::jsonb,
  occurred_at timestamptz not null default now(),
  source text not null default 'unknown',
  idempotency_key text unique,
  inserted_at timestamptz not null default now(),
  status text not null default 'new',
  status_reason text,
  processed_at timestamptz,
  lease_owner text,
  lease_until timestamptz,
  constraint events_status check (status in ('new', 'done', 'waiting_link', 'set_aside'))
);
comment on table events is 'One row per thing that happened to a user. Insert with status new; the engine sets the rest.';
comment on column events.line_user_id is 'Who, by LINE user id. Give this or member_id.';
comment on column events.member_id is 'Who, by the shop''s member id; resolved through line_users.member_id. An event for a member not linked yet waits (status waiting_link) until the link arrives, for 30 days.';
comment on column events.type is 'follow, unfollow, cart_abandoned, purchased, shipped, survey_answered, reservation_made, account_linked, profile_updated, list_added, ... (lower snake case).';
comment on column events.properties is 'Event data, a JSON object: scenarios filter on it and fill placeholders from it (productName, reservationAt, ...).';
comment on column events.occurred_at is 'When it happened (not when it was inserted): scenarios count time from here.';
comment on column events.source is 'Where it came from: line-webhook, shop-events, shopify, csv-import, ...';
comment on column events.idempotency_key is 'Optional; a second insert with the same key is rejected, so a webhook delivered twice is one event (use ON CONFLICT DO NOTHING).';
comment on column events.status is 'new: not yet taken in; done; waiting_link: member id not linked yet; set_aside: malformed, see status_reason.';

-- The ingest queue: only rows not yet taken in, found by a partial index, so that a row
-- whose transaction commits late (with a lower id) is still picked up (no id cursor).
create index if not exists events_new on events (id) where status = 'new';
create index if not exists events_waiting_link on events (member_id) where status = 'waiting_link';
create index if not exists events_user_time on events (line_user_id, occurred_at);

create table if not exists line_link_nonces (
  nonce text primary key,
  member_id text not null,
  created_at timestamptz not null default now()
);
comment on table line_link_nonces is 'Account-link nonces the shop issued, with its member id: the LINE webhook turns a linked nonce into an account_linked event.';

create table if not exists scenarios (
  scenario_id text primary key,
  current_hash text not null,
  version integer not null,
  activated_at timestamptz not null,
  updated_at timestamptz not null default now()
);
comment on table scenarios is 'Each scenario the engine has run, with the definition now in force. activated_at: its first run (earlier events do not enroll).';

create table if not exists scenario_versions (
  scenario_id text not null,
  hash text not null,
  version integer not null,
  definition jsonb not null,
  first_seen_at timestamptz not null default now(),
  primary key (scenario_id, hash)
);
comment on table scenario_versions is 'Every definition of every scenario the engine has run, so that enrollments placed by an older one can be moved on after an edit.';

create table if not exists enrollments (
  id uuid primary key default gen_random_uuid(),
  scenario_id text not null,
  line_user_id text not null,
  status text not null default 'active',
  step_id text not null,
  entered_at timestamptz not null,
  previous_at timestamptz not null,
  wait_started_at timestamptz,
  waiting_for text,
  due_at timestamptz,
  trigger jsonb not null default '{}'::jsonb,
  trigger_event_id bigint,
  scenario_hash text not null,
  shard_key integer not null,
  converted_at timestamptz,
  exit_reason text,
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ended_at timestamptz,
  constraint enrollments_status check (status in ('active', 'finished', 'exited'))
);
-- Room on each page for the new version of a row: the claim's lease write then stays on
-- the page and touches no index (a HOT update), which halves the claim's cost.
alter table enrollments set (fillfactor = 80);
comment on table enrollments is 'A user''s place in a scenario: the step to do next and when it is due.';
comment on column enrollments.due_at is 'When the engine next looks at this enrollment (infinity while the scenario is paused).';
comment on column enrollments.shard_key is 'A stable hash of the user (0-1023): a matrix of N ticks takes shard_key % N.';

-- The claim: due, active enrollments in due order. O(what is due).
create index if not exists enrollments_due on enrollments (due_at) where status = 'active';
-- At most one active enrollment per user and scenario.
create unique index if not exists enrollments_one_active on enrollments (scenario_id, line_user_id) where status = 'active';
create index if not exists enrollments_user on enrollments (line_user_id, scenario_id);

create table if not exists outbox_batches (
  id uuid primary key default gen_random_uuid(),
  scenario_id text not null,
  step_id text not null,
  kind text not null,
  messages jsonb not null,
  recipients text[] not null,
  aggregation_unit text,
  status text not null default 'pending',
  attempts integer not null default 0,
  first_attempt_at timestamptz,
  last_attempt_at timestamptz,
  lease_owner text,
  lease_until timestamptz,
  sent_at timestamptz,
  line_request_id text,
  error jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint outbox_batches_kind check (kind in ('push', 'multicast')),
  constraint outbox_batches_status check (status in ('pending', 'sent', 'failed', 'needs_review')),
  constraint outbox_batches_recipients check (cardinality(recipients) between 1 and 500)
);
comment on table outbox_batches is 'LINE requests to make, written in the same transaction that advances the enrollments. id is the X-Line-Retry-Key: a resend within 24 hours is answered 409 and counted as sent.';
comment on column outbox_batches.status is 'pending: to send; sent; failed: LINE refused it (see error); needs_review: still pending past the retry-key window, so a resend could duplicate: a person decides.';
create index if not exists outbox_pending on outbox_batches (created_at) where status = 'pending';
create index if not exists outbox_review on outbox_batches (created_at) where status = 'needs_review';

create table if not exists deliveries (
  id bigint generated always as identity primary key,
  enrollment_id uuid not null,
  scenario_id text not null,
  step_id text not null,
  line_user_id text not null,
  kind text not null,
  due_at timestamptz not null,
  batch_id uuid,
  status text not null,
  reason text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint deliveries_kind check (kind in ('send', 'expire', 'fail')),
  constraint deliveries_status check (status in ('pending', 'sent', 'failed', 'skipped', 'needs_review')),
  -- The same step at the same moment is decided once per enrollment, whatever happens.
  constraint deliveries_once unique (enrollment_id, step_id, due_at)
);
-- Room for the status update when LINE answers (pending to sent) on the same page: a
-- HOT update, with no new index entries.
alter table deliveries set (fillfactor = 85);
comment on table deliveries is 'What each enrollment was sent (or why a step was skipped), one row per step decision.';
create index if not exists deliveries_batch on deliveries (batch_id) where batch_id is not null;
-- The frequency cap: what a user was sent since the start of the day.
create index if not exists deliveries_user_recent on deliveries (line_user_id, created_at) where kind = 'send';

create table if not exists runs (
  id uuid primary key default gen_random_uuid(),
  started_at timestamptz not null,
  finished_at timestamptz,
  shard_index integer not null default 0,
  shard_count integer not null default 1,
  dry_run boolean not null default false,
  trigger text,
  counts jsonb not null default '{}'::jsonb,
  status text not null default 'running'
);
comment on table runs is 'One row per tick: the heartbeat that shows late and missed schedules.';
create index if not exists runs_started on runs (started_at desc);

alter table line_users enable row level security;
alter table line_link_nonces enable row level security;
alter table events enable row level security;
alter table scenarios enable row level security;
alter table scenario_versions enable row level security;
alter table enrollments enable row level security;
alter table outbox_batches enable row level security;
alter table deliveries enable row level security;
alter table runs enable row level security;
