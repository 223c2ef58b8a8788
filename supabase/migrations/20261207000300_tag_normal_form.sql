-- line-step-delivery: tags in one stored form, whatever writes them (issue 27 item 5).
--
-- Two tags that look the same are one tag: a tag is stored in Unicode NFKC (full-width
-- letters, compatibility forms and composed/decomposed accents become one form), with
-- invisible and bidi characters removed (controls other than white space, Unicode's
-- Default_Ignorable_Code_Point, bidi marks, embeddings, overrides and isolates, line and
-- paragraph separators), white space runs made one space and none at either end. Case is
-- kept ("VIP" and "vip" look different). A tag that is nothing once normalized is dropped,
-- and a tag held twice is kept once, at its first place. The same rule as normalizeTag in
-- src/contract/names.ts (test/hostile/tags.test.ts holds the two to the same answers);
-- scenario validation refuses a tag not written in this form.
--
-- A trigger on line_users applies it to every write of attributes.tags (ingest of
-- profile_updated events from hooks and CSV imports, action steps, a team's own SQL), so
-- no path into the table is left out. Tags already stored are brought to the form below,
-- writing only the rows that change.

create or replace function lsd_normalize_tag(t text) returns text
language plpgsql immutable as $$
declare
  invisible constant text := '[\u0001-\u0008\u000E-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0000-\U000E0FFF]';
  v text := t;
begin
  if t is null then return null; end if;
  -- normalize() needs a UTF8 database (Supabase's is); elsewhere only the rest applies.
  if current_setting('server_encoding') = 'UTF8' then v := normalize(v, NFKC); end if;
  v := regexp_replace(v, invisible, '', 'g');
  if current_setting('server_encoding') = 'UTF8' then v := normalize(v, NFKC); end if;
  v := regexp_replace(v, '[\t\n\u000B\f\r ]+', ' ', 'g');
  return regexp_replace(v, '^ | $', '', 'g');
end $$;

-- A user's tags in the stored form: a list of distinct normalized strings, first place
-- kept (values that are not strings are kept as they are); a single string stays one.
create or replace function lsd_normalize_tags(tags jsonb) returns jsonb
language sql immutable as $$
  select case jsonb_typeof(tags)
    when 'string' then to_jsonb(lsd_normalize_tag(tags #>> '{}'))
    when 'array' then coalesce((
      select jsonb_agg(v order by first_at)
      from (select v, min(n) as first_at
            from (select case when jsonb_typeof(x) = 'string' then to_jsonb(lsd_normalize_tag(x #>> '{}')) else x end as v, n
                  from jsonb_array_elements(tags) with ordinality as e(x, n)) normalized
            where v <> '""'::jsonb
            group by v) d), '[]'::jsonb)
    else tags end
$$;

create or replace function lsd_line_users_tag_form() returns trigger
language plpgsql as $$
begin
  if not (new.attributes ? 'tags') then return new; end if;
  if tg_op = 'UPDATE' and new.attributes->'tags' is not distinct from old.attributes->'tags' then return new; end if;
  new.attributes := jsonb_set(new.attributes, '{tags}', lsd_normalize_tags(new.attributes->'tags'));
  return new;
end $$;

drop trigger if exists line_users_tag_form on line_users;
create trigger line_users_tag_form before insert or update of attributes on line_users
  for each row execute function lsd_line_users_tag_form();

update line_users set attributes = jsonb_set(attributes, '{tags}', lsd_normalize_tags(attributes->'tags'))
where attributes ? 'tags' and lsd_normalize_tags(attributes->'tags') is distinct from attributes->'tags';

select lsd_secure_functions();
select lsd_migration_applied('20261207000300_tag_normal_form.sql');
