// doctor's database link: reachable with the settings given, migrations current (the files
// to apply named; doctor never migrates), the engine's functions executable by the key
// given, row level security on the engine's tables. It opens the store without the
// migrator, so it changes nothing; lsd_doctor (a read-only function) answers the rest.
import { openPostgres } from '../../store/postgres.js';
import { openSupabase } from '../../store/supabase.js';
import type { Rpc } from '../../store/rpc.js';
import { appliedMigrations, compareSchema, KNOWN_MIGRATIONS } from '../../store/schema-version.js';
import { withoutQuotedValues } from '../../contract/public-error.js';
import type { Settings } from '../config.js';
import { fix, notChecked, ok, type Check } from './checks.js';

/** The migration that brings lsd_doctor: without it, the events, dispatcher and scenario checks cannot be made. */
export const DOCTOR_MIGRATION = '20261207000700_doctor.sql';

/** What lsd_doctor answers (supabase/migrations/20261207000700_doctor.sql). Times in ms. */
export interface DoctorFacts {
  now: number;
  rls_off: string[];
  not_executable: string[];
  sources: { source: string; last_at: number; count: number }[];
  recent_window: number;
  set_aside: { reason: string; count: number }[];
  backlog: { count: number; oldest_at: number | null };
  last_run: { started_at: number; finished_at: number | null; status: string; trigger: string | null } | null;
  scenarios: { id: string; hash: string; retired: boolean }[];
  cron: {
    installed: boolean;
    job?: { jobid: number; schedule: string; active: boolean } | null;
    last_run?: { status: string; started_at: number | null; ended_at: number | null; message: string | null } | null;
  };
}

export interface DatabaseLink {
  checks: Check[];
  /** Open when the database was reached; the caller closes it. */
  rpc?: Rpc;
  facts?: DoctorFacts;
}

const CONNECT_MS = 15_000;

function timeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${CONNECT_MS / 1000} s`)), CONNECT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

function isPermissionDenied(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '42501' || (error instanceof Error && /permission denied/i.test(error.message));
}

/** Why the database could not be used, with what to do (no value from the settings is quoted). */
export function databaseProblem(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = withoutQuotedValues(String(e?.message ?? error), 200);
  if (code === '42501' || /permission denied/i.test(message))
    return `the key or role given may not execute the engine's functions (${message}): use the secret key (sb_secret_…), or a role that owns the migrations`;
  if (/invalid api key|jwt|401|no api key/i.test(message))
    return `Supabase refused the key (${message}): copy the secret key again into SUPABASE_SECRET_KEY`;
  if (code === '28P01' || /password authentication/i.test(message))
    return 'the password in DATABASE_URL was refused: copy the connection string again';
  if (code === '3D000') return `the database in DATABASE_URL does not exist (${message})`;
  if (code === '' && /could not be reached|fetch failed|ECONNREFUSED|ENOTFOUND|timeout|no answer/i.test(message))
    return `the database could not be reached (${message}): check the URL and that the project is not paused`;
  return message;
}

async function open(settings: Settings): Promise<Rpc> {
  if (settings.DATABASE_URL) return timeout(openPostgres(settings.DATABASE_URL, { max: 1 }), 'the database');
  return openSupabase(settings.SUPABASE_URL!, settings.SUPABASE_SECRET_KEY!);
}

/** The database link's checks; `rpc` and `facts` for the links that read the database too. */
export async function databaseChecks(settings: Settings, now: number): Promise<DatabaseLink> {
  if (!settings.DATABASE_URL && !(settings.SUPABASE_URL && settings.SUPABASE_SECRET_KEY))
    return { checks: [notChecked('database', 'reachable', 'no database settings (see settings above)')] };
  let rpc: Rpc | undefined;
  let applied: string[] | null;
  try {
    rpc = await open(settings);
    applied = await timeout(appliedMigrations(rpc), 'the database');
  } catch (error) {
    await rpc?.close().catch(() => {});
    // Reached, but the key's role may not call the engine: the functions' link, not the connection's.
    if (rpc && isPermissionDenied(error))
      return { checks: [ok('database', 'reachable', rpc.label), fix('database', 'functions', databaseProblem(error))] };
    return { checks: [fix('database', 'reachable', databaseProblem(error))] };
  }
  const checks: Check[] = [ok('database', 'reachable', rpc.label)];
  checks.push(migrationsCheck(applied));
  if (!(applied ?? []).includes(DOCTOR_MIGRATION)) {
    checks.push(
      notChecked('database', 'functions and RLS', `the database lacks ${DOCTOR_MIGRATION} (apply the migrations)`),
    );
    return { checks, rpc };
  }
  let facts: DoctorFacts;
  try {
    facts = await timeout(rpc.call<DoctorFacts>('lsd_doctor', { now }), 'the database');
  } catch (error) {
    checks.push(fix('database', 'functions', databaseProblem(error)));
    return { checks, rpc };
  }
  checks.push(...privilegeChecks(facts));
  return { checks, rpc, facts };
}

/** The files named: all when few, else the first and the last (they apply in name order). */
function fileList(names: string[]): string {
  return names.length <= 5 ? names.join(', ') : `from ${names[0]} to ${names[names.length - 1]}`;
}

const HOW_TO_MIGRATE =
  'Apply them in name order from supabase/migrations/ of this release: line-step-delivery migrate with DATABASE_URL, ' +
  "supabase db push, or each file in Supabase's SQL editor (a tick with database-url applies them itself; doctor never does)";

function migrationsCheck(applied: string[] | null): Check {
  const mismatch = compareSchema(applied);
  if (!mismatch) return ok('database', 'migrations', `current (${KNOWN_MIGRATIONS.length} files applied)`);
  if (applied === null)
    return fix(
      'database',
      'migrations',
      `this database has no record of the engine's migrations: a new database needs all ${KNOWN_MIGRATIONS.length} files (${fileList([...KNOWN_MIGRATIONS])}). ${HOW_TO_MIGRATE}`,
    );
  if (mismatch.missing.length)
    return fix(
      'database',
      'migrations',
      `${mismatch.missing.length} file(s) not applied: ${fileList(mismatch.missing)}. ${HOW_TO_MIGRATE}`,
    );
  return fix(
    'database',
    'migrations',
    `the database has file(s) this release does not know (${mismatch.unknown.join(', ')}): a newer release set it up; update the uses: line of your workflows to that release or later`,
  );
}

function privilegeChecks(facts: DoctorFacts): Check[] {
  const checks: Check[] = [];
  const denied = facts.not_executable;
  checks.push(
    denied.length
      ? fix(
          'database',
          'functions',
          `the key given may not execute ${denied.length} engine function(s) (${denied.slice(0, 5).join(', ')}${denied.length > 5 ? ', …' : ''}): use the secret key (sb_secret_…); on your own Postgres, connect as the role that applied the migrations`,
        )
      : ok('database', 'functions', "the engine's functions are executable by the key given"),
  );
  checks.push(
    facts.rls_off.length
      ? fix(
          'database',
          'RLS',
          `row level security is off on ${facts.rls_off.join(', ')}: anyone with the publishable key could read them. Run ${facts.rls_off.map((t) => `alter table ${t} enable row level security;`).join(' ')}`,
        )
      : ok('database', 'RLS', 'on for every table of the engine (no policy: only the secret key reads them)'),
  );
  return checks;
}
