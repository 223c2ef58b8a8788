-- line-step-delivery: every retention page read through its index (issue 22 item 3).
-- Redefines lsd_retention_runs (20261207000600_retention.sql), lsd_retention_dispatches and
-- lsd_retention_replies (20261207000603_retention_dispatches_replies.sql) with sequential
-- and bitmap scans off, as the other kinds already were: on a small table the planner chose
-- to read it whole (runs: a hash join over two sequential scans), which grows with the table.
-- Now runs are read through runs_started (the newer run of the same shard too), dispatches
-- through lsd_dispatches_decided, replies through replies_recent.

create or replace function lsd_retention_runs(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
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

create or replace function lsd_retention_dispatches(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  n integer;
  newest bigint;
begin
  select id into newest from lsd_dispatches order by decided_at desc limit 1;
  with gone as (
    delete from lsd_dispatches d where d.id in (
      select x.id from lsd_dispatches x where x.decided_at < cutoff and x.id <> newest
      order by x.decided_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $$;

create or replace function lsd_retention_replies(now_ts timestamptz, cutoff timestamptz, lim integer) returns jsonb
language plpgsql set plan_cache_mode = force_custom_plan set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  n integer;
begin
  with gone as (
    delete from replies r where r.event_key in (
      select x.event_key from replies x where x.created_at < cutoff and x.status <> 'sending'
      order by x.created_at limit lim for update skip locked)
    returning 1)
  select count(*) into n from gone;
  return jsonb_build_object('deleted', n, 'examined', n, 'more', n = lim);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207000604_retention_index_only.sql');
