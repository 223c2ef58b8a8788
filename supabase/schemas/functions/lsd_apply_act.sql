-- Applies one act to its user (a user's second act of a page, and later ones): null, or why not.
CREATE OR REPLACE FUNCTION public.lsd_apply_act(a jsonb, now_ts timestamp with time zone)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  r jsonb;
begin
  select lsd_act_change(u.attributes, a) into r from line_users u where u.line_user_id = a->>'line_user_id' for update;
  if r ? 'error' then
    return r->>'error';
  end if;
  update line_users set attributes = r->'attributes', updated_at = now_ts where line_user_id = a->>'line_user_id';
  insert into events (line_user_id, type, properties, occurred_at, source, idempotency_key)
  select a->>'line_user_id', e->>'type', e->'properties', lsd_ts(a->'due_at'), 'step', e->>'key'
  from jsonb_array_elements(r->'events') with ordinality as x(e, n) order by n
  on conflict (idempotency_key) do nothing;
  return null;
end $function$;
