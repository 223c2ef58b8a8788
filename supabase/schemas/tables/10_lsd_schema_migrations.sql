create table if not exists lsd_schema_migrations (
  name text not null,
  applied_at timestamp with time zone default now() not null,
  constraint lsd_schema_migrations_pkey PRIMARY KEY (name)
);
alter table lsd_schema_migrations enable row level security;
comment on table lsd_schema_migrations is 'The migration files applied to this database (by the engine''s migrator or by supabase db push).';
