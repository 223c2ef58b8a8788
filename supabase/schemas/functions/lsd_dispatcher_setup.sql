-- Sets the dispatcher up, or changes some of its settings (the others are kept). p: {owner,
-- repo, workflow, ref?, inputs?, min_gap_seconds?, budget_minutes? (null: none),
-- public_repository?, enabled?, now?}. Answers the settings.
CREATE OR REPLACE FUNCTION public.lsd_dispatcher_setup(p jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_custom_plan'
 SET search_path TO 'public', 'pg_temp'
AS $function$
declare
  s lsd_dispatcher_settings;
  now_ts timestamptz := coalesce(lsd_dispatch_instant(p->'now'), now());
begin
  select * into s from lsd_dispatcher_settings where id;
  s.id := true;
  s.owner := coalesce(p->>'owner', s.owner);
  s.repo := coalesce(p->>'repo', s.repo);
  s.workflow := coalesce(p->>'workflow', s.workflow);
  s.ref := coalesce(p->>'ref', s.ref, 'main');
  s.inputs := coalesce(p->'inputs', s.inputs, '{"run-mode": "send"}'::jsonb);
  s.min_gap_seconds := coalesce((p->>'min_gap_seconds')::integer, s.min_gap_seconds, 120);
  s.budget_minutes := case when p ? 'budget_minutes' then (p->>'budget_minutes')::integer else s.budget_minutes end;
  s.public_repository := coalesce((p->>'public_repository')::boolean, s.public_repository, false);
  s.enabled := coalesce((p->>'enabled')::boolean, s.enabled, true);
  if s.owner is null or s.owner !~ '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$' then
    raise exception 'dispatcher setup: owner "%" is not a GitHub user or organization name: give owner, e.g. {"owner": "my-shop"}', coalesce(s.owner, '');
  end if;
  if s.repo is null or s.repo !~ '^[A-Za-z0-9._-]{1,100}$' then
    raise exception 'dispatcher setup: repo "%" is not a repository name: give repo, e.g. {"repo": "line-scenarios"}', coalesce(s.repo, '');
  end if;
  if s.workflow is null or s.workflow !~ '^([A-Za-z0-9._-]+\.ya?ml|[0-9]+)$' then
    raise exception 'dispatcher setup: workflow "%" is not a workflow file name: give its file name under .github/workflows, e.g. {"workflow": "step-delivery.yml"}', coalesce(s.workflow, '');
  end if;
  if s.ref = '' or jsonb_typeof(s.inputs) <> 'object' then
    raise exception 'dispatcher setup: ref must be a branch or tag (e.g. "main") and inputs a JSON object of the workflow''s inputs';
  end if;
  if s.min_gap_seconds < 60 then
    raise exception 'dispatcher setup: min_gap_seconds % is under 60: the cron job decides once a minute', s.min_gap_seconds;
  end if;
  if s.budget_minutes < 0 then
    raise exception 'dispatcher setup: budget_minutes % is negative: give the billed Actions minutes a month, or null for no budget', s.budget_minutes;
  end if;
  insert into lsd_dispatcher_settings (id, owner, repo, workflow, ref, inputs, min_gap_seconds, budget_minutes, public_repository, enabled, created_at, updated_at)
  values (true, s.owner, s.repo, s.workflow, s.ref, s.inputs, s.min_gap_seconds, s.budget_minutes, s.public_repository, s.enabled, now_ts, now_ts)
  on conflict (id) do update set owner = excluded.owner, repo = excluded.repo, workflow = excluded.workflow, ref = excluded.ref,
    inputs = excluded.inputs, min_gap_seconds = excluded.min_gap_seconds, budget_minutes = excluded.budget_minutes,
    public_repository = excluded.public_repository, enabled = excluded.enabled, updated_at = excluded.updated_at;
  return (select to_jsonb(x) - 'id' from lsd_dispatcher_settings x where id);
end $function$;
