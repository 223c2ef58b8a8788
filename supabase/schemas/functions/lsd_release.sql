-- Gives back leases without changing anything else (a plan-only dry run).
CREATE OR REPLACE FUNCTION public.lsd_release(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare n integer;
begin
  update enrollments set lease_owner = null, lease_until = null
  where lease_owner = p->>'owner' and id in (select x::uuid from jsonb_array_elements_text(coalesce(p->'ids', '[]'::jsonb)) x);
  get diagnostics n = row_count;
  return jsonb_build_object('released', n);
end $function$;
