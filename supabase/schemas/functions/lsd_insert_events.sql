-- Inserts a page of imported events; a repeated idempotency key is skipped, so importing
-- the same file twice changes nothing.
CREATE OR REPLACE FUNCTION public.lsd_insert_events(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare n integer;
begin
  insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key)
  select x.line_user_id, x.member_id, x.type, coalesce(x.properties, '{}'), coalesce(lsd_ts(x.occurred_at), now()), coalesce(x.source, 'import'), x.idempotency_key
  from jsonb_to_recordset(coalesce(p->'events', '[]')) as x(line_user_id text, member_id text, type text, properties jsonb, occurred_at jsonb, source text, idempotency_key text)
  on conflict (idempotency_key) do nothing;
  get diagnostics n = row_count;
  return jsonb_build_object('inserted', n);
end $function$;
