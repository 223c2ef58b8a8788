-- An instant given as epoch milliseconds or an ISO string; null when absent.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_instant(v jsonb)
 RETURNS timestamp with time zone
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select case when v is null or jsonb_typeof(v) = 'null' then null
              when jsonb_typeof(v) = 'number' then lsd_ts(v)
              else (v #>> '{}')::timestamptz end
$function$;
