-- A key as a reason shows it: a plain name is shown, anything that might be data is not.
CREATE OR REPLACE FUNCTION public.lsd_key_label(prefix text, key text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select case when key ~ '^[A-Za-z_][A-Za-z0-9_-]{0,39}$' and key !~ '^U[0-9a-f]{32}$' then prefix || key
              else prefix || '[a key not shown]' end
$function$;
