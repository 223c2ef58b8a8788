CREATE OR REPLACE FUNCTION public.lsd_shard_key(line_user_id text)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
AS $function$ select abs(hashtext(line_user_id) % 1024) $function$;
