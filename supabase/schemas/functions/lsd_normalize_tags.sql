-- A user's tags in the stored form: a list of distinct normalized strings, first place
-- kept, empty ones dropped (values that are not strings kept once); a single string stays one.
CREATE OR REPLACE FUNCTION public.lsd_normalize_tags(tags jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  out_ jsonb := '[]'::jsonb;
  x jsonb;
  v text;
begin
  if jsonb_typeof(tags) = 'string' then return to_jsonb(lsd_normalize_tag(tags #>> '{}')); end if;
  if jsonb_typeof(tags) is distinct from 'array' then return tags; end if;
  for x in select jsonb_array_elements(tags) loop
    if jsonb_typeof(x) <> 'string' then
      if not out_ @> jsonb_build_array(x) then out_ := out_ || jsonb_build_array(x); end if;
      continue;
    end if;
    v := lsd_normalize_tag(x #>> '{}');
    if v <> '' and not out_ ? v then out_ := out_ || to_jsonb(v); end if;
  end loop;
  return out_;
end $function$;
