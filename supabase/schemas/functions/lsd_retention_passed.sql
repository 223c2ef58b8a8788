-- Moves the cursor past a page; at the end of a pass it stays there until a new pass is due.
CREATE OR REPLACE FUNCTION public.lsd_retention_passed(kind_ text, now_ts timestamp with time zone, at_end boolean, last_at timestamp with time zone, last_id text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  insert into lsd_retention_cursor as c (kind, after_at, after_id, updated_at, rescan_after)
  values (kind_, coalesce(last_at, '-infinity'), coalesce(last_id, ''), now_ts,
          case when at_end then now_ts + interval '1 day' end)
  on conflict (kind) do update set
    after_at = coalesce(last_at, c.after_at),
    after_id = coalesce(last_id, c.after_id),
    updated_at = now_ts,
    -- A pass under way (rescan_after passed or unset) gets a new time at its end; one not due yet keeps its time.
    rescan_after = case when c.rescan_after > now_ts then c.rescan_after
                        when at_end then now_ts + interval '1 day' end;
end $function$;
