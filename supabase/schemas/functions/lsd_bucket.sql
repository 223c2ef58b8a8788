-- The 15-minute bucket of an instant (UTC-aligned). No SET clause, so it is inlined
-- (lsd_secure_functions leaves lsd_ts, lsd_ms and lsd_shard_key alone; this one takes a
-- pinned search_path, so it is used only where it runs once a statement or a group).
CREATE OR REPLACE FUNCTION public.lsd_bucket(at_ timestamp with time zone)
 RETURNS timestamp with time zone
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$ select date_bin('15 minutes', at_, timestamptz '2000-01-01 00:00:00+00') $function$;
