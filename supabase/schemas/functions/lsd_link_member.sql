-- The LINE user an event given by member id is for; null when no one is linked to that
-- member id yet: the event then waits for the link (taken in when it comes, or set aside
-- after 30 days).
CREATE OR REPLACE FUNCTION public.lsd_link_member(event_id bigint, member text)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  resolved text;
begin
  select line_user_id into resolved from line_users where member_id = member;
  if resolved is null then
    update events set status = 'waiting_link', status_reason = 'no LINE user is linked to this member_id yet', lease_owner = null, lease_until = null where id = event_id;
  else
    update events set line_user_id = resolved where id = event_id;
  end if;
  return resolved;
end $function$;
