-- One action step's change of a user's attributes: {attributes, events} or {error}.
-- a: one element of plans[].acts (see 20261203000001).
CREATE OR REPLACE FUNCTION public.lsd_act_change(attrs jsonb, a jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  adds jsonb := coalesce(a#>'{tags,add}', '[]');
  removes jsonb := coalesce(a#>'{tags,remove}', '[]');
  sets jsonb := coalesce(a#>'{attributes,set}', '{}');
  clears jsonb := coalesce(a#>'{attributes,clear}', '[]');
  incs jsonb := coalesce(a#>'{attributes,increment}', '{}');
  old_tags jsonb := lsd_tags_of(attrs);
  new_tags jsonb;
  after_ jsonb;
  events_ jsonb;
  inc record;
  cur jsonb;
  sum_ numeric;
  key_ text := 'step:' || (a->>'enrollment_id') || ':' || (a->>'step_id') || ':' || (a->>'due_at');
  origin jsonb := jsonb_build_object('scenario', a->>'scenario_id', 'step', a->>'step_id');
begin
  select coalesce(jsonb_agg(t order by n), '[]'::jsonb) into new_tags
  from (select t, min(n) as n
        from jsonb_array_elements_text(old_tags || adds) with ordinality as x(t, n)
        where not (removes ? t) group by t) d;
  if jsonb_array_length(new_tags) > 100 and jsonb_array_length(new_tags) > jsonb_array_length(old_tags) then
    return jsonb_build_object('error', format('the user would have %s tags; at most 100 are kept', jsonb_array_length(new_tags)));
  end if;
  after_ := (attrs - array(select jsonb_array_elements_text(clears))) || sets;
  for inc in select key, value from jsonb_each(incs) loop
    cur := after_->inc.key;
    if cur is not null and jsonb_typeof(cur) <> 'number' then
      return jsonb_build_object('error', format('attribute "%s" holds %s, not a number: the step cannot add %s to it (set it to a number or clear it first)',
        inc.key, case jsonb_typeof(cur) when 'array' then 'a list' when 'null' then 'null' when 'object' then 'an object' else 'a ' || jsonb_typeof(cur) end,
        inc.value::text));
    end if;
    sum_ := coalesce(cur::text::numeric, 0) + inc.value::text::numeric;
    if abs(sum_) > 1000000000 then
      return jsonb_build_object('error', format('attribute "%s" would be %s: a number an action step adds to stays within ±1,000,000,000', inc.key, sum_::text));
    end if;
    after_ := jsonb_set(after_, array[inc.key], to_jsonb(sum_));
  end loop;
  if jsonb_array_length(adds) + jsonb_array_length(removes) > 0 then
    after_ := jsonb_set(after_, '{tags}', new_tags);
  end if;
  select coalesce(jsonb_agg(jsonb_build_object('type', e.type, 'key', key_ || ':' || e.type || ':' || e.name,
                                               'properties', e.props || origin) order by e.n, e.name), '[]'::jsonb)
    into events_
  from (
    select distinct on (t) 'tag_added' as type, t as name, jsonb_build_object('tag', t) as props, n
    from jsonb_array_elements_text(adds) with ordinality as x(t, n) where not (old_tags ? t) and not (removes ? t)
    union all
    select distinct on (t) 'tag_removed', t, jsonb_build_object('tag', t), 100 + n
    from jsonb_array_elements_text(removes) with ordinality as x(t, n) where old_tags ? t
    union all
    select distinct on (k) 'attribute_cleared', k, jsonb_build_object('name', k), 200 + n
    from jsonb_array_elements_text(clears) with ordinality as x(k, n) where attrs ? k and not (sets ? k)
    union all
    select 'attribute_set', k, jsonb_build_object('name', k, 'value', v), 300
    from jsonb_each(sets) as s(k, v) where attrs->k is distinct from v
    union all
    select 'attribute_set', k, jsonb_build_object('name', k, 'value', after_->k), 400
    from jsonb_each(incs) as i(k, v)) e;
  return jsonb_build_object('attributes', after_, 'events', events_);
end $function$;
