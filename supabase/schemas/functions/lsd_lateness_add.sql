-- Adds served steps to a run's distribution: p {run_id, at, served, max_seconds, earliest_due_at,
-- earliest_lateness_seconds, buckets}. Ticks record in order, shards are runs of their own;
-- the upsert still merges correctly if two records of one run meet.
CREATE OR REPLACE FUNCTION public.lsd_lateness_add(p jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $function$
begin
  if coalesce((p->>'served')::bigint, 0) = 0 then return; end if;
  -- A run id that names no run (a caller's mistake) records nothing rather than fail the record.
  if not exists (select 1 from runs where id = (p->>'run_id')::uuid) then return; end if;
  insert into run_lateness as l (run_id, at, served, max_seconds, earliest_due_at, earliest_lateness_seconds, buckets)
  values ((p->>'run_id')::uuid, (p->>'at')::timestamptz, (p->>'served')::bigint, (p->>'max_seconds')::double precision,
          (p->>'earliest_due_at')::timestamptz, (p->>'earliest_lateness_seconds')::double precision, p->'buckets')
  on conflict (run_id) do update set
    at = least(l.at, excluded.at),
    served = l.served + excluded.served,
    max_seconds = greatest(l.max_seconds, excluded.max_seconds),
    earliest_lateness_seconds = case when excluded.earliest_due_at < l.earliest_due_at
                                     then excluded.earliest_lateness_seconds else l.earliest_lateness_seconds end,
    earliest_due_at = least(l.earliest_due_at, excluded.earliest_due_at),
    buckets = lsd_lateness_merge(l.buckets, excluded.buckets);
end $function$;
