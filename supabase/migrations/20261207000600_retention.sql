-- line-step-delivery: a database that stays within its plan (issue 22, item 3).
--
-- The tick removes what is older than the retention period (a setting, default 90 days,
-- at least 31: the 30-day report reads a month back), one page at a time:
--   events        taken in (done) or set aside, inserted before the cutoff, except those an
--                 open enrollment may still read: an event of a user with an active
--                 enrollment that entered at or before it (its trigger, and the events its
--                 waits, goals and exits read: lsd_claim_due reads from entered_at on).
--                 Never new (not taken in) or waiting_link rows, never a leased row.
--   batches       sent, failed or skipped outbox batches last changed before the cutoff
--                 (never pending, uncertain or needs_review ones, never a leased one). The
--                 report's counts stay: report_sent keeps them per 15-minute bucket.
--   enrollments   ended before the cutoff, with their deliveries (what the user was sent is
--                 kept as long as its enrollment), except the newest ended enrollment of a
--                 user, scenario and no key (re-entry "once" reads it), and any enrollment
--                 with a delivery still pending or in review. A keyed enrollment (an order, a
--                 booking) goes: the same key arriving again after that entered again.
--   runs          started before the cutoff, except the newest of each shard (the next
--                 tick's lateness is measured from it).
-- Each call deletes at most `limit` rows of one kind (default 2,000, at most 5,000), found
-- through an index in the order of age; where rows are kept, a cursor per kind
-- (lsd_retention_cursor) moves past them, so no call scans them again until the cursor has
-- reached the cutoff and starts over. Locks: the rows of the page only, SKIP LOCKED; one
-- tick at a time (an advisory lock taken without waiting: a second tick skips retention).
--
-- lsd_storage records the database's size once a day (lsd_storage_samples) and answers the
-- size now, the size about 30 days ago (or the oldest sample) and its day.

create index if not exists events_settled on events (inserted_at, id) where status in ('done', 'set_aside');
create index if not exists enrollments_ended on enrollments (ended_at, id) where status <> 'active';
create index if not exists outbox_skipped on outbox_batches (updated_at) where status = 'skipped';

create table if not exists lsd_retention_cursor (
  kind text primary key,
  after_at timestamptz not null,
  after_id text not null,
  updated_at timestamptz not null default now()
);
alter table lsd_retention_cursor enable row level security;
comment on table lsd_retention_cursor is 'Where the retention of events and enrollments resumes: past the rows it keeps (still needed). Reset once it reaches the cutoff.';

create table if not exists lsd_storage_samples (
  day date primary key,
  bytes bigint not null,
  sampled_at timestamptz not null
);
alter table lsd_storage_samples enable row level security;
comment on table lsd_storage_samples is 'The database''s size (pg_database_size), once a day: its growth per month and the months left on the plan.';

-- Events: a page from the cursor in (inserted_at, id) order.
create or replace function lsd_retention_events(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  c lsd_retention_cursor;
  last_at timestamptz;
  last_id bigint;
  examined integer;
  n integer;
begin
  select * into c from lsd_retention_cursor where kind = 'events';
  with page as materialized (
    select ev.id, ev.inserted_at, ev.line_user_id, ev.occurred_at, ev.lease_until from events ev
    where ev.status in ('done', 'set_aside') and ev.inserted_at < cutoff
      and (ev.inserted_at, ev.id) > (coalesce(c.after_at, '-infinity'), coalesce(c.after_id::bigint, 0))
    order by ev.inserted_at, ev.id limit lim for update skip locked),
  gone as (
    delete from events ev using page p
    where ev.id = p.id and (p.lease_until is null or p.lease_until < now_ts)
      and not exists (select 1 from enrollments e
                      where e.line_user_id = p.line_user_id and e.status = 'active' and e.entered_at <= p.occurred_at)
    returning 1),
  last_ as (select inserted_at, id from page order by inserted_at desc, id desc limit 1)
  select (select count(*) from page), (select count(*) from gone), (select inserted_at from last_), (select id from last_)
    into examined, n, last_at, last_id;
  perform lsd_retention_move('events', examined < lim, last_at, last_id::text);
  return jsonb_build_object('deleted', n, 'examined', examined, 'more', examined = lim);
end $$;

-- Moves a kind's cursor past its page, or back to the start once the page reached the cutoff.
create or replace function lsd_retention_move(kind_ text, at_end boolean, last_at timestamptz, last_id text) returns void
language plpgsql as $$
begin
  if at_end or last_at is null then
    delete from lsd_retention_cursor where kind = kind_;
  else
    insert into lsd_retention_cursor (kind, after_at, after_id, updated_at) values (kind_, last_at, last_id, now())
    on conflict (kind) do update set after_at = excluded.after_at, after_id = excluded.after_id, updated_at = excluded.updated_at;
  end if;
end $$;

-- Enrollments ended before the cutoff, with their deliveries: a page from the cursor in
-- (ended_at, id) order.
create or replace function lsd_retention_enrollments(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  c lsd_retention_cursor;
  last_at timestamptz;
  last_id uuid;
  examined integer;
  n integer;
  d integer;
begin
  select * into c from lsd_retention_cursor where kind = 'enrollments';
  with page as materialized (
    select e.id, e.ended_at,
           (e.lease_until is null or e.lease_until < now_ts)
           and (e.enrollment_key is not null
                or exists (select 1 from enrollments newer
                           where newer.line_user_id = e.line_user_id and newer.scenario_id = e.scenario_id
                             and newer.enrollment_key is null and newer.entered_at > e.entered_at))
           and not exists (select 1 from deliveries dl where dl.enrollment_id = e.id and dl.status in ('pending', 'needs_review'))
             as removable
    from enrollments e
    where e.status <> 'active' and e.ended_at < cutoff
      and (e.ended_at, e.id) > (coalesce(c.after_at, '-infinity'), coalesce(c.after_id::uuid, '00000000-0000-0000-0000-000000000000'))
    order by e.ended_at, e.id limit lim for update of e skip locked),
  gone as (delete from enrollments e using page p where e.id = p.id and p.removable returning e.id),
  sent as (delete from deliveries dl using gone where dl.enrollment_id = gone.id returning 1),
  last_ as (select ended_at, id from page order by ended_at desc, id desc limit 1)
  select (select count(*) from page), (select count(*) from gone), (select count(*) from sent),
         (select ended_at from last_), (select id from last_)
    into examined, n, d, last_at, last_id;
  perform lsd_retention_move('enrollments', examined < lim, last_at, last_id::text);
  return jsonb_build_object('deleted', n, 'deliveries', d, 'examined', examined, 'more', examined = lim);
end $$;

-- Settled outbox batches (sent, failed, skipped) last changed before the cutoff, oldest first.
create or replace function lsd_retention_batches(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  n integer;
begin
  with page as (
    (select id from outbox_batches where status = 'sent' and sent_at < cutoff and updated_at < cutoff
       and (lease_until is null or lease_until < now_ts) order by sent_at limit lim)
    union all
    (select id from outbox_batches where status = 'failed' and updated_at < cutoff
       and (lease_until is null or lease_until < now_ts) order by updated_at limit lim)
    union all
    (select id from outbox_batches where status = 'skipped' and updated_at < cutoff
       and (lease_until is null or lease_until < now_ts) order by updated_at limit lim)),
  chosen as (select id from page limit lim),
  gone as (
    delete from outbox_batches b where b.id in (
      select x.id from outbox_batches x where x.id in (select id from chosen) for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $$;

-- Runs started before the cutoff, except the newest of each shard.
create or replace function lsd_retention_runs(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  n integer;
begin
  with gone as (
    delete from runs r where r.id in (
      select x.id from runs x
      where x.started_at < cutoff
        and exists (select 1 from runs newer where newer.started_at > x.started_at and newer.shard_index = x.shard_index)
      order by x.started_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $$;

-- One page of retention of one kind.
--   p: {now (epoch ms), retention_days (at least 31), kind: events | batches | enrollments |
--      runs, limit (rows, default 2,000, at most 5,000)}
--   returns: {kind, deleted, examined, more (another page may have work), deliveries (kind
--      enrollments), busy: true when another tick holds retention (nothing done)}
create or replace function lsd_retention(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  days integer := (p->>'retention_days')::integer;
  kind_ text := p->>'kind';
  lim integer := least(greatest(coalesce((p->>'limit')::integer, 2000), 1), 5000);
  cutoff timestamptz;
  result jsonb;
begin
  if days is null or days < 31 then
    raise exception 'lsd_retention: retention_days must be at least 31 (the 30-day report reads a month back), got %', coalesce(p->>'retention_days', 'nothing')
      using errcode = '22023';
  end if;
  if now_ts is null then
    raise exception 'lsd_retention: now (epoch milliseconds) is required' using errcode = '22023';
  end if;
  if not pg_try_advisory_xact_lock(hashtext('lsd_retention')) then
    return jsonb_build_object('kind', kind_, 'deleted', 0, 'examined', 0, 'more', false, 'busy', true);
  end if;
  cutoff := now_ts - make_interval(days => days);
  result := case kind_
    when 'events' then lsd_retention_events(now_ts, cutoff, lim)
    when 'batches' then lsd_retention_batches(now_ts, cutoff, lim)
    when 'enrollments' then lsd_retention_enrollments(now_ts, cutoff, lim)
    when 'runs' then lsd_retention_runs(now_ts, cutoff, lim)
  end;
  if result is null then
    raise exception 'lsd_retention: unknown kind %', coalesce(kind_, 'nothing') using errcode = '22023';
  end if;
  return result || jsonb_build_object('kind', kind_);
end $$;

-- The database's size now, recorded once a day, and a sample about 30 days back to measure
-- its growth against (the oldest one when the record is younger).
--   p: {now (epoch ms)}; returns {bytes, then_bytes, then_at (epoch ms) or null}
create or replace function lsd_storage(p jsonb) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  now_ts timestamptz := coalesce(lsd_ts(p->'now'), now());
  size_ bigint := pg_database_size(current_database());
  then_ lsd_storage_samples;
begin
  insert into lsd_storage_samples (day, bytes, sampled_at) values ((now_ts at time zone 'UTC')::date, size_, now_ts)
  on conflict (day) do update set bytes = excluded.bytes, sampled_at = excluded.sampled_at;
  select * into then_ from lsd_storage_samples
  where day <= (now_ts at time zone 'UTC')::date - 30 order by day desc limit 1;
  if then_.day is null then
    select * into then_ from lsd_storage_samples order by day limit 1;
  end if;
  -- A year of samples is enough to measure a month's growth.
  delete from lsd_storage_samples where day < (now_ts at time zone 'UTC')::date - 400;
  return jsonb_build_object('bytes', size_, 'then_bytes', then_.bytes, 'then_at', lsd_ms(then_.sampled_at));
end $$;

select lsd_secure_functions();
select lsd_secure_tables(array['lsd_retention_cursor', 'lsd_storage_samples']);
select lsd_migration_applied('20261207000600_retention.sql');
