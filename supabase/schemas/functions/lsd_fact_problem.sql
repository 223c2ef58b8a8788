-- What is wrong with the properties the engine reads for this event type, or null. User
-- attributes and survey answers hold what conditions and placeholders read: a string, a
-- number, true/false, null, or a list of those (tags); never an object.
CREATE OR REPLACE FUNCTION public.lsd_fact_problem(type_ text, props jsonb)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  attrs jsonb;
  prefix text;
  bad record;
  container constant jsonpath := 'strict $ ? (@.type() == "object" || (@.type() == "array" && exists(@[*] ? (@.type() == "object" || @.type() == "array"))))';
begin
  case type_
    when 'follow' then
      if jsonb_typeof(props->'route') not in ('string', 'number', 'null') then
        return format('follow: route must be a string, got %s', lsd_json_kind(props->'route'));
      elsif jsonb_typeof(props->'unblocked') not in ('boolean', 'null') then
        return format('follow: unblocked must be true or false, got %s', lsd_json_kind(props->'unblocked'));
      end if;
    when 'account_linked' then
      if coalesce(jsonb_typeof(props->'memberId'), 'null') = 'null' then
        return 'account_linked: memberId is missing';
      elsif jsonb_typeof(props->'memberId') not in ('string', 'number') or (jsonb_typeof(props->'memberId') = 'number' and props->>'memberId' !~ '^-?[0-9]{1,15}$') then
        return format('account_linked: memberId must be a string or a whole number, got %s', lsd_json_kind(props->'memberId'));
      elsif btrim(props->>'memberId') = '' then
        return 'account_linked: memberId is empty';
      elsif length(props->>'memberId') > 200 then
        return 'account_linked: memberId is longer than 200 characters';
      end if;
    when 'profile_updated' then
      -- The attributes object, or (without one) the properties themselves.
      if props ? 'attributes' then
        if jsonb_typeof(props->'attributes') <> 'object' then
          return format('profile_updated: attributes must be a JSON object, got %s', lsd_json_kind(props->'attributes'));
        end if;
        attrs := props->'attributes';
        prefix := 'attributes.';
      else
        attrs := props;
        prefix := '';
      end if;
      if jsonb_typeof(attrs->'linked') not in ('boolean', 'null') then
        return format('profile_updated: %slinked must be true or false, got %s', prefix, lsd_json_kind(attrs->'linked'));
      elsif jsonb_typeof(attrs->'timezone') not in ('string', 'null') then
        return format('profile_updated: %stimezone must be a string (an IANA zone like Asia/Tokyo), got %s', prefix, lsd_json_kind(attrs->'timezone'));
      end if;
      if jsonb_path_exists(attrs, 'strict $.* ? (@.type() == "object" || (@.type() == "array" && exists(@[*] ? (@.type() == "object" || @.type() == "array"))))') then
        select a.key, a.value into bad from jsonb_each(attrs) a where jsonb_path_exists(a.value, container) order by a.key limit 1;
        return format('profile_updated: %s must be a string, a number, true/false, null or a list of those, got %s',
                      lsd_key_label(prefix, bad.key), case when jsonb_typeof(bad.value) = 'array' then 'a list holding a list or an object' else lsd_json_kind(bad.value) end);
      end if;
    when 'survey_answered' then
      -- Without a question it records no answer and only routes (a shop's own survey).
      if coalesce(jsonb_typeof(props->'question'), 'null') = 'null' then
        null;
      elsif jsonb_typeof(props->'question') not in ('string', 'number') then
        return format('survey_answered: question must be a string, got %s', lsd_json_kind(props->'question'));
      elsif btrim(props->>'question') = '' then
        return 'survey_answered: question is empty';
      elsif props ? 'answer' and jsonb_path_exists(props->'answer', container) then
        return format('survey_answered: answer must be a string, a number, true/false or a list of those, got %s',
                      case when jsonb_typeof(props->'answer') = 'array' then 'a list holding a list or an object' else lsd_json_kind(props->'answer') end);
      elsif jsonb_typeof(props->'survey') not in ('string', 'number', 'null') then
        return format('survey_answered: survey must be a string, got %s', lsd_json_kind(props->'survey'));
      end if;
    when 'list_added' then
      if coalesce(jsonb_typeof(props->'list'), 'null') = 'null' then
        return 'list_added: list is missing';
      elsif jsonb_typeof(props->'list') not in ('string', 'number') then
        return format('list_added: list must be a string, got %s', lsd_json_kind(props->'list'));
      end if;
    else null;
  end case;
  return null;
end $function$;
