CREATE OR REPLACE FUNCTION public.lsd_ts(ms jsonb)
 RETURNS timestamp with time zone
 LANGUAGE sql
 IMMUTABLE
AS $function$
  select case when ms is null or jsonb_typeof(ms) = 'null' then null
              else to_timestamp((ms #>> '{}')::double precision / 1000.0) end
$function$;
