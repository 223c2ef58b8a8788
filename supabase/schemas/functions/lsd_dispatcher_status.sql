-- What `dispatcher status`, the job summary and the alert issue show. p: {now?, limit?}.
-- Answers {settings|null, last_starts: [...], month: {runs, billed_minutes, budget_minutes},
-- safety_net: {runs, acted} (scheduled runs this month since setup, and those that found work)}.
CREATE OR REPLACE FUNCTION public.lsd_dispatcher_status(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := coalesce(lsd_dispatch_instant(p->'now'), now());
  s lsd_dispatcher_settings;
  month_runs bigint;
  month_minutes bigint;
begin
  select * into s from lsd_dispatcher_settings where id;
  select m.runs, m.minutes into month_runs, month_minutes from lsd_dispatch_month(now_ts, coalesce(s.run_overhead_seconds, 30)) m;
  return jsonb_build_object(
    'now', lsd_ms(now_ts),
    'settings', case when s.id is not null then jsonb_build_object(
      'owner', s.owner, 'repo', s.repo, 'workflow', s.workflow, 'ref', s.ref, 'inputs', s.inputs,
      'min_gap_seconds', s.min_gap_seconds, 'budget_minutes', s.budget_minutes, 'public_repository', s.public_repository,
      'enabled', s.enabled, 'created_at', lsd_ms(s.created_at), 'last_decided_at', lsd_ms(s.last_decided_at),
      'last_wait_reason', s.last_wait_reason) end,
    'last_starts', coalesce((
      select jsonb_agg(jsonb_build_object('id', d.id, 'decided_at', lsd_ms(d.decided_at), 'origin', d.origin, 'reasons', d.reasons,
               'status', d.status, 'http_status', d.http_status, 'answer', d.answer, 'retry_at', lsd_ms(d.retry_at),
               'answered_at', lsd_ms(d.answered_at)) order by d.decided_at desc)
      from (select * from lsd_dispatches where decided_at <= now_ts order by decided_at desc
            limit coalesce((p->>'limit')::integer, 10)) d), '[]'::jsonb),
    'month', jsonb_build_object('runs', month_runs, 'billed_minutes', month_minutes,
      'budget_minutes', case when s.public_repository then null else s.budget_minutes end),
    'safety_net', (
      select jsonb_build_object('runs', count(*),
               'acted', count(*) filter (where coalesce((r.counts->>'recipientsPlanned')::integer, 0) > 0
                                            or coalesce((r.counts->'events'->>'taken')::integer, 0) > 0))
      from runs r
      where s.id is not null and r.trigger = 'schedule'
        and r.started_at >= greatest(s.created_at, date_trunc('month', now_ts at time zone 'UTC') at time zone 'UTC')
        and r.started_at <= now_ts));
end $function$;
