-- p: {commit: <lsd_commit_plans' argument>, claim: <lsd_claim_due's argument>, optional}.
-- Answers {committed: <lsd_commit_plans' answer>, claimed: <lsd_claim_due's answer> | null}.
CREATE OR REPLACE FUNCTION public.lsd_commit_and_claim(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  committed jsonb := lsd_commit_plans(p->'commit');
begin
  return jsonb_build_object(
    'committed', committed,
    'claimed', case when jsonb_typeof(p->'claim') = 'object' then lsd_claim_due(p->'claim') end);
end $function$;
