-- Event types whose properties change the user record, and so are checked by lsd_fact_problem.
CREATE OR REPLACE FUNCTION public.lsd_fact_types()
 RETURNS text[]
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$ select array['follow', 'account_linked', 'profile_updated', 'survey_answered', 'list_added'] $function$;
