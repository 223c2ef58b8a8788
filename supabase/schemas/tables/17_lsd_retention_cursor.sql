create table if not exists lsd_retention_cursor (
  kind text not null,
  after_at timestamp with time zone not null,
  after_id text not null,
  updated_at timestamp with time zone default now() not null,
  rescan_after timestamp with time zone,
  constraint lsd_retention_cursor_pkey PRIMARY KEY (kind)
);
alter table lsd_retention_cursor enable row level security;
comment on table lsd_retention_cursor is 'Where the retention of events and enrollments resumes: past the rows it keeps (still needed). Reset once it reaches the cutoff.';
comment on column lsd_retention_cursor.rescan_after is 'Set when a pass reached the cutoff: until then only rows past the cursor are read; from then a new pass starts at the oldest.';
