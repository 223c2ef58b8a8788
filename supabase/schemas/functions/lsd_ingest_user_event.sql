-- Takes one event in for its user: a row for a new user (following), the event applied to
-- it (lsd_apply_user_event), and for a link the events that waited for it. A block of its
-- own: whatever still fails here (a concurrent tick linking the same member id, say) is
-- returned as the reason to set this event aside, and only what it did is undone.
CREATE OR REPLACE FUNCTION public.lsd_ingest_user_event(resolved text, type_ text, props jsonb, at_ timestamp with time zone, now_ts timestamp with time zone)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  before_ line_users;
  after_ line_users;
begin
  insert into line_users (line_user_id, following, created_at, updated_at) values (resolved, true, now_ts, now_ts)
  on conflict (line_user_id) do nothing;
  -- Other events leave the row unread and unlocked.
  if type_ = any(lsd_user_event_types()) then
    select * into before_ from line_users where line_user_id = resolved for update;
    after_ := lsd_apply_user_event(before_, type_, props, at_, now_ts);
    if after_ is distinct from before_ then
      update line_users set member_id = after_.member_id, following = after_.following, followed_at = after_.followed_at,
        unfollowed_at = after_.unfollowed_at, follow_route = after_.follow_route, attributes = after_.attributes,
        answers = after_.answers, updated_at = after_.updated_at
      where line_user_id = resolved;
    end if;
  end if;
  if type_ = 'account_linked' then
    -- Events that waited for this link are taken in now.
    update events set status = 'new', line_user_id = resolved, status_reason = null, lease_owner = null, lease_until = null
    where status = 'waiting_link' and member_id = props->>'memberId';
  end if;
  return null;
exception when others then
  -- The SQLSTATE only: an error's message can quote the values.
  return format('%s: could not be applied to the user record (SQLSTATE %s); nothing of it was applied', type_, sqlstate);
end $function$;
