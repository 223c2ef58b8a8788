-- A user's record after one event (its properties checked by lsd_fact_problem), as the
-- ingest writes it; unchanged for an event that does not concern the record. updated_at
-- becomes now_ts whenever the event applied.
CREATE OR REPLACE FUNCTION public.lsd_apply_user_event(u line_users, type_ text, props jsonb, at_ timestamp with time zone, now_ts timestamp with time zone)
 RETURNS line_users
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  case type_
    when 'follow' then
      -- A follow older than the last unfollow (delivered late) does not undo it.
      if u.unfollowed_at is null or u.unfollowed_at <= at_ then
        u.following := true;
        u.followed_at := at_;
        u.follow_route := coalesce(props->>'route', u.follow_route);
        u.updated_at := now_ts;
      end if;
    when 'unfollow' then
      if u.followed_at is null or u.followed_at <= at_ then
        u.following := false;
        u.unfollowed_at := at_;
        u.updated_at := now_ts;
      end if;
    when 'account_linked' then
      u.member_id := props->>'memberId';
      u.attributes := u.attributes || '{"linked": true}'::jsonb;
      u.updated_at := now_ts;
    when 'profile_updated' then
      -- The attributes object, or (without one) the properties themselves.
      u.attributes := u.attributes || case when props ? 'attributes' then props->'attributes' else props end;
      u.updated_at := now_ts;
    when 'survey_answered' then
      -- Without a question (a shop's survey with its own properties), or without an answer
      -- (a tap that carried none), it only routes: an earlier answer stays.
      if props->>'question' is not null and coalesce(jsonb_typeof(props->'answer'), 'null') <> 'null' then
        u.answers := u.answers || jsonb_build_object(props->>'question', props->'answer');
        u.updated_at := now_ts;
      end if;
    else null;
  end case;
  return u;
end $function$;
