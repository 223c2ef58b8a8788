-- What the planner and routing know of users. "linked" is read without a cast: a stored
-- attribute of another type (written before ingest checked it) must not fail every tick.
CREATE OR REPLACE FUNCTION public.lsd_user_facts(users_ text[])
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object(
           'line_user_id', u.line_user_id, 'following', u.following,
           'attributes', u.attributes || jsonb_build_object('linked', u.member_id is not null
             or case jsonb_typeof(u.attributes->'linked') when 'boolean' then (u.attributes->'linked') = 'true'::jsonb
                                                          when 'string' then lower(u.attributes->>'linked') in ('true', 't', 'yes', 'y', 'on', '1')
                                                          else false end),
           'answers', u.answers)), '[]'::jsonb)
  from line_users u where u.line_user_id = any(users_)
$function$;
