-- line-step-delivery: retention passes what it keeps once a day, and locks only what it removes
-- (issue 22 item 3). Measured on the retention benchmark's year (10,000 friends, day 113):
-- a page of ended enrollments examined the 1,178 it keeps (each user's newest, read by
-- re-entry) on every tick, and locked each one (FOR UPDATE writes every row it locks):
-- 2.2 s a page, 45 ms without the locks. Now:
-- * a page reads without locking; only the rows it removes are locked (SKIP LOCKED), in the
--   statement that removes them;
-- * once a pass reaches the cutoff, the cursor stays at the end and new rows past it are
--   taken as they age; the rows kept before are looked at again from the start a day later
--   (lsd_retention_cursor.rescan_after), when some may have become removable (a user
--   entered again, an enrollment ended).
-- Redefines lsd_retention_events and lsd_retention_enrollments (newest in
-- 20261207000600_retention.sql, jit off in ...605) and adds lsd_retention_from and
-- lsd_retention_passed beside lsd_retention_move (no longer used).

alter table lsd_retention_cursor add column if not exists rescan_after timestamptz;
comment on column lsd_retention_cursor.rescan_after is 'Set when a pass reached the cutoff: until then only rows past the cursor are read; from then a new pass starts at the oldest.';

-- Where a page starts: the cursor, or the oldest row when there is none or a new pass is due.
create or replace function lsd_retention_from(kind_ text, now_ts timestamptz, out after_at timestamptz, out after_id text)
language plpgsql stable as $$
declare
  c lsd_retention_cursor;
begin
  select * into c from lsd_retention_cursor where kind = kind_;
  if c.kind is null or (c.rescan_after is not null and c.rescan_after <= now_ts) then
    after_at := '-infinity';
    after_id := null;
  else
    after_at := c.after_at;
    after_id := c.after_id;
  end if;
end $$;

-- Moves the cursor past a page; at the end of a pass it stays there until a new pass is due.
create or replace function lsd_retention_passed(kind_ text, now_ts timestamptz, at_end boolean, last_at timestamptz, last_id text)
returns void language plpgsql as $$
begin
  insert into lsd_retention_cursor as c (kind, after_at, after_id, updated_at, rescan_after)
  values (kind_, coalesce(last_at, '-infinity'), coalesce(last_id, ''), now_ts,
          case when at_end then now_ts + interval '1 day' end)
  on conflict (kind) do update set
    after_at = coalesce(last_at, c.after_at),
    after_id = coalesce(last_id, c.after_id),
    updated_at = now_ts,
    -- A pass under way (rescan_after passed or unset) gets a new time at its end; one not due yet keeps its time.
    rescan_after = case when c.rescan_after > now_ts then c.rescan_after
                        when at_end then now_ts + interval '1 day' end;
end $$;

create or replace function lsd_retention_events(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off set jit = off as $$
declare
  f record;
  last_at timestamptz;
  last_id bigint;
  examined integer;
  n integer;
begin
  select * into f from lsd_retention_from('events', now_ts);
  with page as materialized (
    select ev.id, ev.inserted_at,
           (ev.lease_until is null or ev.lease_until < now_ts)
           and not exists (select 1 from enrollments e
                           where e.line_user_id = ev.line_user_id and e.status = 'active' and e.entered_at <= ev.occurred_at)
             as removable
    from events ev
    where ev.status in ('done', 'set_aside') and ev.inserted_at < cutoff
      and (ev.inserted_at, ev.id) > (f.after_at, coalesce(f.after_id::bigint, 0))
    order by ev.inserted_at, ev.id limit lim),
  locked as (
    select x.id from events x join page p on p.id = x.id and p.removable
    where x.status in ('done', 'set_aside') for update of x skip locked),
  gone as (delete from events ev using locked l where ev.id = l.id returning 1),
  last_ as (select inserted_at, id from page order by inserted_at desc, id desc limit 1)
  select (select count(*) from page), (select count(*) from gone), (select inserted_at from last_), (select id from last_)
    into examined, n, last_at, last_id;
  perform lsd_retention_passed('events', now_ts, examined < lim, last_at, last_id::text);
  return jsonb_build_object('deleted', n, 'examined', examined, 'more', examined = lim);
end $$;

create or replace function lsd_retention_enrollments(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off set jit = off as $$
declare
  f record;
  last_at timestamptz;
  last_id uuid;
  examined integer;
  n integer;
  d integer;
begin
  select * into f from lsd_retention_from('enrollments', now_ts);
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
      and (e.ended_at, e.id) > (f.after_at, coalesce(f.after_id::uuid, '00000000-0000-0000-0000-000000000000'))
    order by e.ended_at, e.id limit lim),
  locked as (
    select x.id from enrollments x join page p on p.id = x.id and p.removable
    where x.status <> 'active' for update of x skip locked),
  gone as (delete from enrollments e using locked l where e.id = l.id returning e.id),
  sent as (delete from deliveries dl using gone where dl.enrollment_id = gone.id returning 1),
  last_ as (select ended_at, id from page order by ended_at desc, id desc limit 1)
  select (select count(*) from page), (select count(*) from gone), (select count(*) from sent),
         (select ended_at from last_), (select id from last_)
    into examined, n, d, last_at, last_id;
  perform lsd_retention_passed('enrollments', now_ts, examined < lim, last_at, last_id::text);
  return jsonb_build_object('deleted', n, 'deliveries', d, 'examined', examined, 'more', examined = lim);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000607_retention_rescan_daily.sql');
