-- line-step-delivery: a retention cursor moved past an empty page keeps working.
--
-- lsd_retention_passed stores '' as the cursor's id when a page found no row (after_id is
-- text, not null); the next page cast it (''::bigint, ''::uuid) and failed, so retention
-- stopped for good after its first empty page ("Retention did not run this tick (invalid
-- input syntax for type bigint)"). Redefines lsd_retention_from (newest in
-- 20261207000607): an empty id is no id.
CREATE OR REPLACE FUNCTION public.lsd_retention_from(kind_ text, now_ts timestamp with time zone, OUT after_at timestamp with time zone, OUT after_id text)
 RETURNS record
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  c lsd_retention_cursor;
begin
  select * into c from lsd_retention_cursor where kind = kind_;
  if c.kind is null or (c.rescan_after is not null and c.rescan_after <= now_ts) then
    after_at := '-infinity';
    after_id := null;
  else
    after_at := c.after_at;
    after_id := nullif(c.after_id, '');
  end if;
end $function$;
