-- What a JSON value is, in words for a reason ("got an object").
CREATE OR REPLACE FUNCTION public.lsd_json_kind(v jsonb)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select case jsonb_typeof(v)
    when 'object' then 'an object' when 'array' then 'a list' when 'string' then 'a string'
    when 'number' then 'a number' when 'boolean' then 'true/false' when 'null' then 'null'
    else 'nothing' end
$function$;
