// doctor's dispatcher link (issue 28; docs/dispatcher.md): the pg_cron job present, active
// and running, the dispatcher's last starts with GitHub's answers, and the lateness of the
// last day. The dispatcher is optional (the workflow's schedule is the safety net): not set
// up is a note; set up but not running is a fix. Everything the dispatcher's own migrations
// define is read through its functions (lsd_dispatcher_status, lsd_lateness_by_day), so this
// one module adapts when they change; pg_cron's own tables come from lsd_doctor.
import type { Rpc } from '../../store/rpc.js';
import { withoutQuotedValues } from '../../contract/public-error.js';
import type { DoctorFacts } from './database.js';
import { ago } from './events.js';
import { fix, note, notChecked, ok, type Check } from './checks.js';

export const DISPATCH_JOB = 'line-step-delivery-dispatch';

interface DispatcherStatus {
  settings: {
    owner: string;
    repo: string;
    workflow: string;
    ref: string;
    enabled: boolean;
    last_decided_at: number | null;
    last_wait_reason: string | null;
  } | null;
  last_starts: { decided_at: number; status: string; http_status: number | null; answer: string | null }[];
}

interface LatenessDay {
  day: string;
  runs: number;
  served: number;
  p50: number;
  p95: number;
  max: number;
}

const SETUP =
  'enable pg_cron and pg_net (Supabase dashboard → Database → Extensions), deploy the dispatch function, run `line-step-delivery dispatcher setup` and schedule the job (docs/dispatcher.md, Setup)';

/** The function is not in this database (its migration is not applied), in SQL's or PostgREST's words. */
function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    code === '42883' || code === 'PGRST202' || /does not exist|could not find the function|PGRST202/i.test(message)
  );
}

async function read<T>(rpc: Rpc, fn: string, payload: unknown): Promise<T | 'missing'> {
  try {
    return await rpc.call<T>(fn, payload);
  } catch (error) {
    if (isMissing(error)) return 'missing';
    throw error;
  }
}

export async function dispatcherChecks(rpc: Rpc | undefined, facts: DoctorFacts | undefined): Promise<Check[]> {
  if (!rpc || !facts)
    return [notChecked('dispatcher', 'set up', 'the database could not be read (see database above)')];
  let status: DispatcherStatus | 'missing';
  try {
    status = await read<DispatcherStatus>(rpc, 'lsd_dispatcher_status', { now: facts.now, limit: 3 });
  } catch (error) {
    return [fix('dispatcher', 'status', withoutQuotedValues(String((error as Error)?.message ?? error), 200))];
  }
  if (status === 'missing')
    return [
      notChecked('dispatcher', 'set up', "this database lacks the dispatcher's migration (see migrations above)"),
    ];
  const s = status.settings;
  if (!s)
    return [
      note(
        'dispatcher',
        'set up',
        `not set up: ticks start only on the workflow's schedule (often late at the top of the hour, sometimes dropped). To start them when work is due: ${SETUP}`,
      ),
    ];
  if (!s.enabled)
    return [
      note('dispatcher', 'set up', `set up for ${s.owner}/${s.repo} (${s.workflow} on ${s.ref}) but switched off`),
    ];
  const checks: Check[] = [ok('dispatcher', 'set up', `starts ${s.owner}/${s.repo} ${s.workflow} on ${s.ref}`)];
  checks.push(...cronChecks(facts, s.last_decided_at));
  checks.push(startsCheck(status.last_starts, facts.now));
  checks.push(await latenessCheck(rpc, facts.now));
  return checks;
}

/** pg_cron installed in this database, the job there and active, its last run fine, and a decision in the last minutes. */
function cronChecks(facts: DoctorFacts, lastDecided: number | null): Check[] {
  const cron = facts.cron;
  if (!cron.installed)
    return [
      fix(
        'dispatcher',
        'pg_cron',
        `pg_cron is not enabled in this database, so nothing starts a tick when work is due: ${SETUP}`,
      ),
    ];
  if (!cron.job)
    return [
      fix(
        'dispatcher',
        'pg_cron job',
        `there is no pg_cron job named ${DISPATCH_JOB}: schedule it (docs/dispatcher.md, Setup step 5: select cron.schedule('${DISPATCH_JOB}', '* * * * *', …))`,
      ),
    ];
  if (!cron.job.active)
    return [
      fix(
        'dispatcher',
        'pg_cron job',
        `${DISPATCH_JOB} is switched off: select cron.alter_job(${cron.job.jobid}, active := true);`,
      ),
    ];
  const checks: Check[] = [ok('dispatcher', 'pg_cron job', `${DISPATCH_JOB} (${cron.job.schedule})`)];
  const last = cron.last_run;
  if (last && last.status === 'failed')
    checks.push(
      fix(
        'dispatcher',
        'last job run',
        `failed ${last.started_at ? ago(last.started_at, facts.now) : ''}: ${withoutQuotedValues(last.message ?? 'no message', 200)}`,
      ),
    );
  if (lastDecided === null || facts.now - lastDecided > 5 * 60_000)
    checks.push(
      fix(
        'dispatcher',
        'running',
        lastDecided === null
          ? 'the job has never decided: check cron.job_run_details for its errors (pg_net enabled? the dispatch function deployed?)'
          : `the job last decided ${ago(lastDecided, facts.now)}: pg_cron does not run it, or its call does not reach the dispatch function (cron.job_run_details says why; pg_net enabled?)`,
      ),
    );
  else checks.push(ok('dispatcher', 'running', `last decided ${ago(lastDecided, facts.now)}`));
  return checks;
}

function startsCheck(starts: DispatcherStatus['last_starts'], now: number): Check {
  if (!starts.length) return ok('dispatcher', 'last starts', 'none yet (nothing was due)');
  const text = starts
    .map((d) => `${ago(d.decided_at, now)}: ${d.status}${d.http_status ? ` (${d.http_status})` : ''}`)
    .join('; ');
  const latest = starts[0]!;
  if (latest.status === 'refused')
    return fix(
      'dispatcher',
      'last starts',
      `${text}. GitHub refused the last one: ${withoutQuotedValues(latest.answer ?? '', 300)}`,
    );
  return ok('dispatcher', 'last starts', text);
}

async function latenessCheck(rpc: Rpc, now: number): Promise<Check> {
  let days: LatenessDay[] | 'missing';
  try {
    days = await read<LatenessDay[]>(rpc, 'lsd_lateness_by_day', { from: now - 86_400_000, to: now });
  } catch {
    return notChecked('dispatcher', 'lateness (last day)', 'the database did not answer');
  }
  if (days === 'missing')
    return notChecked('dispatcher', 'lateness (last day)', 'this database does not record lateness yet');
  const served = days.reduce((n, d) => n + Number(d.served), 0);
  if (!served) return ok('dispatcher', 'lateness (last day)', 'no step was due');
  const worst = (k: 'p50' | 'p95' | 'max') => Math.max(...days.map((d) => Number(d[k])));
  return ok(
    'dispatcher',
    'lateness (last day)',
    `${served} step(s) served: p50 ${worst('p50')} s, p95 ${worst('p95')} s, max ${worst('max')} s`,
  );
}
