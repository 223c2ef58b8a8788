-- p: {"nonce": "...", "event_key": "line:<webhookEventId>"}. Returns {"member_id": "..." or null}.
-- Two events racing for one nonce: the second waits for the first's row lock, then finds
-- used_by set to the other key and updates nothing.
CREATE OR REPLACE FUNCTION public.lsd_consume_link_nonce(p jsonb)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO 'public', 'pg_temp'
AS $function$
  with used as (
    update line_link_nonces set used_at = coalesce(used_at, now()), used_by = p->>'event_key'
    where nonce = p->>'nonce' and p->>'event_key' is not null
      and (used_by is null or used_by = p->>'event_key')
    returning member_id)
  select jsonb_build_object('member_id', (select member_id from used));
$function$;
