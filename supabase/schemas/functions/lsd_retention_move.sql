-- Moves a kind's cursor past its page, or back to the start once the page reached the cutoff.
CREATE OR REPLACE FUNCTION public.lsd_retention_move(kind_ text, at_end boolean, last_at timestamp with time zone, last_id text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  if at_end or last_at is null then
    delete from lsd_retention_cursor where kind = kind_;
  else
    insert into lsd_retention_cursor (kind, after_at, after_id, updated_at) values (kind_, last_at, last_id, now())
    on conflict (kind) do update set after_at = excluded.after_at, after_id = excluded.after_id, updated_at = excluded.updated_at;
  end if;
end $function$;
