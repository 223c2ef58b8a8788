-- Whether a scenario's first step may fall due within 15 minutes of entry.
CREATE OR REPLACE FUNCTION public.lsd_dispatch_first_step_soon(d jsonb)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select w is null or jsonb_typeof(w) <> 'object'
      or coalesce(w->>'from', 'previous') not in ('previous', 'entry')
      or (w ? 'at' and coalesce((w->'after'->>'days')::integer, 0) < 1)
      or coalesce((w->'after'->>'days')::integer, 0) * 86400 + coalesce((w->'after'->>'hours')::integer, 0) * 3600
         + coalesce((w->'after'->>'minutes')::integer, 0) * 60 < 900
  from (select d->'steps'->0->'wait' as w) x
$function$;
