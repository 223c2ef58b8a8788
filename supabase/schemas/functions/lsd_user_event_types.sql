-- The event types lsd_apply_user_event folds into a user's record.
CREATE OR REPLACE FUNCTION public.lsd_user_event_types()
 RETURNS text[]
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$ select array['follow', 'unfollow', 'account_linked', 'profile_updated', 'survey_answered'] $function$;
