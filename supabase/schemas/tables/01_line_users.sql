create table if not exists line_users (
  line_user_id text not null,
  member_id text,
  following boolean default true not null,
  followed_at timestamp with time zone,
  unfollowed_at timestamp with time zone,
  follow_route text,
  attributes jsonb default '{}'::jsonb not null,
  answers jsonb default '{}'::jsonb not null,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  constraint line_users_answers_object CHECK ((jsonb_typeof(answers) = 'object'::text)),
  constraint line_users_attributes_object CHECK ((jsonb_typeof(attributes) = 'object'::text)),
  constraint line_users_pkey PRIMARY KEY (line_user_id),
  constraint line_users_member_id_key UNIQUE (member_id)
);
alter table line_users enable row level security;
comment on table line_users is 'LINE users known to the account: follow state, the shop''s member id once linked, and attributes used by scenario conditions.';
comment on column line_users.line_user_id is 'LINE user id (U followed by 32 hex digits).';
comment on column line_users.member_id is 'The shop''s own member id, set when the user links accounts (ID linking).';
comment on column line_users.following is 'False after an unfollow (block): no step is sent and every enrollment ends.';
comment on column line_users.follow_route is 'The route of the latest follow (a QR code, an ad), when known.';
comment on column line_users.attributes is 'Attributes for conditions and placeholders: gender, ageBand, os, region, tags (array), timezone (IANA), displayName, ...';
comment on column line_users.answers is 'Survey answers by question id, from survey_answered events.';
