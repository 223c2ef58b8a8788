-- Two distributions added up, bucket by bucket.
CREATE OR REPLACE FUNCTION public.lsd_lateness_merge(a jsonb, b jsonb)
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
  from (select k, sum(v::bigint) as n from (
          select key as k, value as v from jsonb_each_text(coalesce(a, '{}'::jsonb))
          union all
          select key, value from jsonb_each_text(coalesce(b, '{}'::jsonb))) x
        group by k) y
$function$;
