-- What a tick would take in next, with nothing written: p as lsd_ingest_claim's (after_id to page on).
CREATE OR REPLACE FUNCTION public.lsd_ingest_peek(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
AS $function$
declare
  seen jsonb;
begin
  begin
    seen := lsd_ingest_claim(p || '{"owner": "what-if", "lease_seconds": 1}'::jsonb);
    -- Undoes every write of the block; the answer, held in a variable, stays.
    raise exception using errcode = 'LSDWI', message = 'what-if: undo the claim';
  exception when sqlstate 'LSDWI' then
    null;
  end;
  return seen;
end $function$;
