-- The user's tags as a JSON array of distinct strings (a single string counts as one tag).
CREATE OR REPLACE FUNCTION public.lsd_tags_of(attrs jsonb)
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce((
    select jsonb_agg(t order by first_at)
    from (select t, min(n) as first_at
          from jsonb_array_elements_text(case jsonb_typeof(attrs->'tags')
                                           when 'array' then (select coalesce(jsonb_agg(v), '[]'::jsonb) from jsonb_array_elements(attrs->'tags') v where jsonb_typeof(v) = 'string')
                                           when 'string' then jsonb_build_array(attrs->'tags')
                                           else '[]'::jsonb end) with ordinality as x(t, n)
          group by t) d), '[]'::jsonb)
$function$;
