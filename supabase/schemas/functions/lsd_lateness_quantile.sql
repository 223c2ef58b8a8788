-- The q-quantile (0-1) of a distribution, as its bucket's upper edge, capped at the maximum.
CREATE OR REPLACE FUNCTION public.lsd_lateness_quantile(buckets jsonb, q double precision, max_seconds double precision)
 RETURNS double precision
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  with b as (select key::integer as k, value::bigint as n from jsonb_each_text(coalesce(buckets, '{}'::jsonb))),
  c as (select k, sum(n) over (order by k) as cum, sum(n) over () as total from b)
  select least(lsd_lateness_edge(min(k)), max_seconds) from c where cum >= q * total
$function$;
