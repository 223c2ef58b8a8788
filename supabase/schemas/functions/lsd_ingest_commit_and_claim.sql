-- p: {commit: <lsd_ingest_commit's argument>, claim: <lsd_ingest_claim's argument>, optional}.
-- Answers {committed: <lsd_ingest_commit's answer>, claimed: <lsd_ingest_claim's answer> | null}.
CREATE OR REPLACE FUNCTION public.lsd_ingest_commit_and_claim(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  committed jsonb := lsd_ingest_commit(p->'commit');
begin
  return jsonb_build_object(
    'committed', committed,
    'claimed', case when jsonb_typeof(p->'claim') = 'object' then lsd_ingest_claim(p->'claim') end);
end $function$;
