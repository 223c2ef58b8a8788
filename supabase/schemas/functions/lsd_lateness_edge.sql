-- The upper edge of a bucket, in seconds.
CREATE OR REPLACE FUNCTION public.lsd_lateness_edge(bucket integer)
 RETURNS double precision
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select power(1.05, bucket) - 1
$function$;
