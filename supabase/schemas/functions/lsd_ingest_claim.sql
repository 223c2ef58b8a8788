-- As in 20261201000003, its parts in the functions above; with the plan settings of
-- 20261202000001 (a create or replace drops those not repeated).
CREATE OR REPLACE FUNCTION public.lsd_ingest_claim(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET enable_bitmapscan TO 'off'
 SET enable_seqscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := lsd_ts(p->'now');
  owner_ text := p->>'owner';
  lease interval := make_interval(secs => coalesce((p->>'lease_seconds')::integer, 120));
  lim integer := coalesce((p->>'limit')::integer, 500);
  page_bytes bigint := coalesce((p->>'page_bytes')::bigint, 8 * 1024 * 1024);
  -- The database's clock too: a tick run with a clock set in the past (a test, a replay)
  -- must not set aside events inserted now.
  latest timestamptz := greatest(now_ts, now()) + interval '1 day';
  e record;
  resolved text;
  reason text;
  taken bigint[] := '{}';
  users_ text[] := '{}';
  aside_ids bigint[] := '{}';
  aside_reasons text[] := '{}';
  picked integer := 0;
  waiting_count integer := 0;
  changing constant text[] := lsd_user_event_types();
  changed_users text[] := '{}';
  before_ids bigint[] := '{}';
  before_facts jsonb[] := '{}';
  after_ids bigint[] := '{}';
  after_facts jsonb[] := '{}';
  facts_before jsonb;
  -- Only events after this id (a what-if pages on without leasing); last_id: the page's last.
  after_id bigint := coalesce((p->>'after_id')::bigint, 0);
  last_id bigint;
begin
  -- Member-id events whose link never came: set aside after 30 days, with the reason.
  update events set status = 'set_aside', status_reason = 'member_id was never linked to a LINE user within 30 days', processed_at = now_ts
  where id in (select id from events where status = 'waiting_link' and inserted_at < now_ts - interval '30 days' limit 1000);

  for e in
    select * from lsd_ingest_lease(owner_, now_ts, lease, lim, page_bytes, after_id)
  loop
    picked := picked + 1;
    last_id := e.id;
    reason := lsd_event_problem(e.type, e.occurred_at, e.properties, e.text_bytes, latest);
    resolved := e.line_user_id;
    if reason is null and resolved is null and e.member_id is not null then
      resolved := lsd_link_member(e.id, e.member_id);
      if resolved is null then waiting_count := waiting_count + 1; continue; end if;
    end if;
    reason := coalesce(reason, lsd_user_problem(resolved, e.type, e.properties));

    facts_before := null;
    if reason is null and e.type = any(changing) and not resolved = any(changed_users) then
      facts_before := lsd_user_facts(array[resolved])->0;
    end if;
    if reason is null then
      reason := lsd_ingest_user_event(resolved, e.type, e.properties, e.occurred_at, now_ts);
    end if;

    if reason is null and e.type = any(changing) then
      if not resolved = any(changed_users) then
        -- (null when the user had no row yet: routing then starts from a new user's facts)
        before_ids := before_ids || e.id;
        before_facts := before_facts || facts_before;
        changed_users := changed_users || resolved;
      end if;
      after_ids := after_ids || e.id;
      after_facts := after_facts || (lsd_user_facts(array[resolved])->0);
    end if;
    if reason is not null then
      aside_ids := aside_ids || e.id;
      aside_reasons := aside_reasons || reason;
      continue;
    end if;
    taken := taken || e.id;
    users_ := users_ || resolved;
  end loop;

  update events set status = 'set_aside', status_reason = x.reason, processed_at = now_ts, lease_owner = null, lease_until = null
  from unnest(aside_ids, aside_reasons) as x(id, reason) where events.id = x.id;

  return lsd_ingest_events(taken, before_ids, before_facts, after_ids, after_facts) || jsonb_build_object(
    'set_aside', cardinality(aside_ids),
    'set_aside_reasons', coalesce((select jsonb_object_agg(r.reason, r.n) from (select x as reason, count(*) as n from unnest(aside_reasons) x group by x) r), '{}'::jsonb),
    'waiting_link', waiting_count,
    'last_id', last_id::text,
    -- A full page, or one cut short by its byte bound: there may be more.
    'more', picked > 0 and (picked >= lim or exists (
      select 1 from events where status = 'new' and (lease_until is null or lease_until < now_ts) and id > after_id)),
    'users', lsd_user_facts(users_),
    'enrollments', lsd_ingest_enrollments(users_));
end $function$;
