-- What is wrong with an event's properties against the bounds, or null. text_bytes is the
-- size of properties::text, computed once by the claim. (plpgsql, cheapest checks first:
-- a small event costs a few microseconds.)
CREATE OR REPLACE FUNCTION public.lsd_properties_problem(props jsonb, text_bytes integer)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  compact integer;
begin
  if jsonb_typeof(props) is distinct from 'object' then
    return format('properties must be a JSON object, got %s', lsd_json_kind(props));
  end if;
  -- Compact JSON is at least half the text form: past twice the bound, it is too large.
  if text_bytes > 2 * 65536 then
    return 'properties are more than 131072 bytes of JSON: at most 65536 bytes an event';
  end if;
  -- A container at level 9 (properties is level 1). The walk stops at that level, so a
  -- value nested thousands of levels deep is refused without a deep recursion.
  if text_bytes >= 18 and jsonb_path_exists(props, 'strict $.**{8} ? (@.type() == "object" || @.type() == "array")') then
    return 'properties nest deeper than 8 levels (properties is level 1)';
  end if;
  if text_bytes > 65536 then
    compact := lsd_compact_json_bytes(props, text_bytes);
    if compact > 65536 then
      return format('properties are %s bytes of JSON: at most 65536 bytes an event', compact);
    end if;
  end if;
  -- 101 keys take more than 500 bytes of text, a string of 4,001 characters more than 4,001.
  -- (Nested ifs: a condition holding a sub-select runs the full executor, even when its
  -- first half is false.)
  if text_bytes > 500 then
    if (select count(*) from jsonb_path_query(props, 'strict $.** ? (@.type() == "object").*')) > 100 then
      return 'properties have more than 100 keys (counted at every level)';
    end if;
  end if;
  if text_bytes > 4001 then
    if exists (
        select 1 from jsonb_path_query(props, 'strict $.** ? (@.type() == "string")') s where length(s #>> '{}') > 4000
        union all
        select 1 from jsonb_path_query(props, 'strict $.** ? (@.type() == "object").keyvalue().key') k where length(k #>> '{}') > 4000) then
      return 'a string in properties is longer than 4000 characters';
    end if;
  end if;
  return null;
end $function$;
