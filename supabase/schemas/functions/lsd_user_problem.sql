-- Why an event cannot be taken in for the LINE user it ends up with, or null.
CREATE OR REPLACE FUNCTION public.lsd_user_problem(resolved text, type_ text, props jsonb)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
  select case
    when resolved is null then 'neither line_user_id nor member_id is given'
    -- One malformed id in a multicast makes LINE refuse it for all 500 recipients.
    when resolved !~ '^U[0-9a-f]{32}$' then 'line_user_id must be a LINE user id: "U" and 32 lowercase hex digits'
    when type_ = 'account_linked' and exists (
        select 1 from line_users where member_id = props->>'memberId' and line_user_id <> resolved)
      then 'account_linked: this memberId is already linked to another LINE user (a link nonce used twice?); the first link stands'
  end
$function$;
