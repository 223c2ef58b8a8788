-- line-step-delivery: an account-link nonce links once. The LINE webhook consumes it in one
-- statement: the first webhook event that presents it gets the member id, and so do that
-- event's redeliveries (its insert may have failed after the nonce was marked); any other
-- event gets nothing, so a nonce used twice cannot link a member id twice.

alter table line_link_nonces add column if not exists used_at timestamptz;
alter table line_link_nonces add column if not exists used_by text;
comment on column line_link_nonces.used_at is 'When the LINE webhook consumed the nonce (null: not used yet).';
comment on column line_link_nonces.used_by is 'The idempotency key of the webhook event that consumed the nonce (line:<webhookEventId>).';

-- p: {"nonce": "...", "event_key": "line:<webhookEventId>"}. Returns {"member_id": "..." or null}.
-- Two events racing for one nonce: the second waits for the first's row lock, then finds
-- used_by set to the other key and updates nothing.
create or replace function lsd_consume_link_nonce(p jsonb) returns jsonb
language sql as $$
  with used as (
    update line_link_nonces set used_at = coalesce(used_at, now()), used_by = p->>'event_key'
    where nonce = p->>'nonce' and p->>'event_key' is not null
      and (used_by is null or used_by = p->>'event_key')
    returning member_id)
  select jsonb_build_object('member_id', (select member_id from used));
$$;

select lsd_secure_functions();
select lsd_migration_applied('20261127000001_single_use_link_nonces.sql');
