-- Leases the page of new events ingest takes next, in id order: up to lim events after
-- after_id, as many as fit in page_bytes of properties (at least one).
CREATE OR REPLACE FUNCTION public.lsd_ingest_lease(owner_ text, now_ts timestamp with time zone, lease interval, lim integer, page_bytes bigint, after_id bigint)
 RETURNS TABLE(id bigint, line_user_id text, member_id text, type text, properties jsonb, occurred_at timestamp with time zone, text_bytes integer)
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
#variable_conflict use_column
begin
  return query
  with candidates as (
    select id, octet_length(properties::text) as text_bytes from events
    where status = 'new' and (lease_until is null or lease_until < now_ts) and id > after_id
    order by id limit lim for update skip locked),
  -- Bytes of properties this page returns: an event too large to take in is set aside
  -- without its properties being returned, so it counts for nothing.
  budget as (
    select id, text_bytes, sum(case when text_bytes > 2 * 65536 then 0 else text_bytes end) over (order by id) as running
    from candidates),
  chosen as (
    select id, text_bytes from budget where running <= page_bytes or id = (select min(id) from budget)),
  leased as (
    update events set lease_owner = owner_, lease_until = now_ts + lease
    from chosen where events.id = chosen.id
    returning events.id, events.line_user_id, events.member_id, events.type, events.properties, events.occurred_at, chosen.text_bytes)
  select * from leased order by id;
end $function$;
