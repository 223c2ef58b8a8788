-- The size of a value as compact JSON (as JSON.stringify writes it), from the size of
-- PostgreSQL's text form, which adds a space after every ":" and ",". Only called for
-- values whose text is near the bound, after the depth check (the walks are bounded then).
CREATE OR REPLACE FUNCTION public.lsd_compact_json_bytes(v jsonb, text_bytes integer)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select text_bytes
    - 2 * (select count(*) from jsonb_path_query(v, 'strict $.** ? (@.type() == "object").*'))::integer
    - (select count(*) from jsonb_path_query(v, 'strict $.** ? (@.type() == "array")[*]'))::integer
    + (select count(*) from jsonb_path_query(v, 'strict $.** ? (exists(@.*) || exists(@[*]))'))::integer
$function$;
