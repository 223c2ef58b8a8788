-- Why an event is set aside before its member id is looked up (a malformed event does not
-- wait 30 days for a link), or null. latest: the last occurred_at taken in.
CREATE OR REPLACE FUNCTION public.lsd_event_problem(type_ text, at_ timestamp with time zone, props jsonb, text_bytes integer, latest timestamp with time zone)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  reason text;
begin
  reason := case
    when type_ !~ '^[a-z][a-z0-9_]{0,63}$' then 'type must be lower snake case, like cart_abandoned'
    when at_ < timestamptz '2000-01-01 00:00:00+00' then 'occurred_at is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)'
    when at_ > latest then 'occurred_at is more than a day after now: check the clock, the time zone or the unit'
  end;
  if reason is null then reason := lsd_properties_problem(props, text_bytes); end if;
  if reason is null and type_ = any(lsd_fact_types()) then reason := lsd_fact_problem(type_, props); end if;
  return reason;
end $function$;
