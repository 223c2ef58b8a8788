CREATE OR REPLACE FUNCTION public.lsd_line_users_tag_form()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  if not (new.attributes ? 'tags') then return new; end if;
  if tg_op = 'UPDATE' and new.attributes->'tags' is not distinct from old.attributes->'tags' then return new; end if;
  new.attributes := jsonb_set(new.attributes, '{tags}', lsd_normalize_tags(new.attributes->'tags'));
  return new;
end $function$;
