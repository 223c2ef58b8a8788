CREATE OR REPLACE FUNCTION public.lsd_doctor(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  now_ts timestamptz := coalesce(lsd_ts(p->'now'), now());
  recent integer := 50000;
  engine_tables text[] := array['line_users', 'line_link_nonces', 'events', 'scenarios', 'scenario_versions',
    'enrollments', 'outbox_batches', 'deliveries', 'runs', 'lsd_schema_migrations', 'line_unit_statistics',
    'report_sent'];
  cron jsonb := jsonb_build_object('installed', to_regclass('cron.job') is not null);
  job jsonb;
  last_run jsonb;
begin
  if to_regclass('cron.job') is not null then
    execute $q$
      select jsonb_build_object('jobid', jobid, 'schedule', schedule, 'active', active)
      from cron.job where jobname = 'line-step-delivery-dispatch' order by jobid limit 1
    $q$ into job;
    if job is not null and to_regclass('cron.job_run_details') is not null then
      execute $q$
        select jsonb_build_object('status', status, 'started_at', lsd_ms(start_time), 'ended_at', lsd_ms(end_time),
                                  'message', left(return_message, 300))
        from cron.job_run_details where jobid = $1 order by runid desc limit 1
      $q$ into last_run using (job->>'jobid')::bigint;
    end if;
    cron := cron || jsonb_build_object('job', job, 'last_run', last_run);
  end if;
  return jsonb_build_object(
    'now', lsd_ms(now_ts),
    'rls_off', (
      select coalesce(jsonb_agg(c.relname order by c.relname), '[]'::jsonb)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
        and (c.relname = any (engine_tables) or c.relname like 'lsd\_%' or c.relname like 'dispatch%')),
    'not_executable', (
      select coalesce(jsonb_agg(pr.proname order by pr.proname), '[]'::jsonb)
      from pg_proc pr join pg_namespace n on n.oid = pr.pronamespace
      where n.nspname = 'public' and pr.proname like 'lsd\_%' and pr.prokind = 'f'
        and not has_function_privilege(pr.oid, 'execute')),
    'sources', (
      select coalesce(jsonb_agg(jsonb_build_object('source', source, 'last_at', lsd_ms(last_at), 'count', n)
                                order by source), '[]'::jsonb)
      from (select e.source, max(e.inserted_at) as last_at, count(*) as n
            from (select source, inserted_at from events order by id desc limit recent) e
            group by e.source) s),
    'recent_window', recent,
    'set_aside', (
      select coalesce(jsonb_agg(jsonb_build_object('reason', reason, 'count', n) order by n desc, reason), '[]'::jsonb)
      from (select coalesce(status_reason, 'no reason recorded') as reason, count(*) as n
            from events where status = 'set_aside' and inserted_at >= now_ts - interval '1 day'
            group by 1) r),
    'backlog', (
      select jsonb_build_object('count', count(*), 'oldest_at', lsd_ms(min(inserted_at)))
      from (select inserted_at from events where status = 'new' order by id limit 10001) b),
    'last_run', (
      select jsonb_build_object('started_at', lsd_ms(started_at), 'finished_at', lsd_ms(finished_at),
                                'status', status, 'trigger', trigger)
      from runs where not dry_run order by started_at desc limit 1),
    'scenarios', (
      select coalesce(jsonb_agg(jsonb_build_object('id', scenario_id, 'hash', current_hash,
                                                   'retired', retired_at is not null) order by scenario_id), '[]'::jsonb)
      from scenarios),
    'cron', cron);
end $function$;
comment on function lsd_doctor(jsonb) is 'Read-only health facts for line-step-delivery doctor: counts and times, never a user id or a message.';
