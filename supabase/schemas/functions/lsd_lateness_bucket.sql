-- The bucket of a lateness in seconds (negative counts as 0: a step sent ahead of a clock skew).
CREATE OR REPLACE FUNCTION public.lsd_lateness_bucket(seconds double precision)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select case when seconds <= 0 then 0 else ceil(ln(1 + seconds) / ln(1.05))::integer end
$function$;
