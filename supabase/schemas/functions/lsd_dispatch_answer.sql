-- GitHub's answer to a start. p: {id, outcome: started|refused|rate_limited|failed,
-- http_status?, answer? (what a person can act on), retry_at? (ms), now?}.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_answer(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare n integer;
begin
  update lsd_dispatches set status = p->>'outcome', http_status = (p->>'http_status')::integer, answer = left(p->>'answer', 500),
    retry_at = lsd_dispatch_instant(p->'retry_at'), answered_at = coalesce(lsd_dispatch_instant(p->'now'), now())
  where id = (p->>'id')::bigint;
  get diagnostics n = row_count;
  return jsonb_build_object('recorded', n);
end $function$;
