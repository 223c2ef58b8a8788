create table if not exists line_link_nonces (
  nonce text not null,
  member_id text not null,
  created_at timestamp with time zone default now() not null,
  used_at timestamp with time zone,
  used_by text,
  constraint line_link_nonces_pkey PRIMARY KEY (nonce)
);
alter table line_link_nonces enable row level security;
comment on table line_link_nonces is 'Account-link nonces the shop issued, with its member id: the LINE webhook turns a linked nonce into an account_linked event.';
comment on column line_link_nonces.used_at is 'When the LINE webhook consumed the nonce (null: not used yet).';
comment on column line_link_nonces.used_by is 'The idempotency key of the webhook event that consumed the nonce (line:<webhookEventId>).';
