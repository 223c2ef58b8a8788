CREATE OR REPLACE FUNCTION public.lsd_normalize_tag(t text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  invisible constant text := '[\u0001-\u0008\u000E-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0000-\U000E0FFF]';
  v text := t;
begin
  if t is null or t ~ '^[!-~]+( [!-~]+)*$' then return t; end if;
  -- normalize() needs a UTF8 database (Supabase's is); elsewhere only the rest applies.
  if current_setting('server_encoding') = 'UTF8' then v := normalize(v, NFKC); end if;
  v := regexp_replace(v, invisible, '', 'g');
  if current_setting('server_encoding') = 'UTF8' then v := normalize(v, NFKC); end if;
  v := regexp_replace(v, '[\t\n\u000B\f\r ]+', ' ', 'g');
  return regexp_replace(v, '^ | $', '', 'g');
end $function$;
