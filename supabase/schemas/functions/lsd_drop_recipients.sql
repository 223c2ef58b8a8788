-- Drops recipients of batches this owner has just claimed, when the scenario's exit rules
-- say they left (see lsd_claim_batches): drops [{batch_id, line_user_id, reason}].
CREATE OR REPLACE FUNCTION public.lsd_drop_recipients(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owned uuid[];
begin
  -- Still leased to this owner, never uncertain: only then may the request change.
  owned := array(
    select b.id from outbox_batches b
    where b.id in (select (x->>'batch_id')::uuid from jsonb_array_elements(coalesce(p->'drops', '[]'::jsonb)) x)
      and b.lease_owner = p->>'owner' and b.status = 'pending' and b.uncertain_since is null
    for update);
  return lsd_skip_recipients(coalesce((
    select jsonb_agg(x) from jsonb_array_elements(coalesce(p->'drops', '[]'::jsonb)) x where (x->>'batch_id')::uuid = any(owned)), '[]'::jsonb), now_ts);
end $function$;
