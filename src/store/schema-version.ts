// The engine and the database must agree on the schema. Every migration file records its
// name in lsd_schema_migrations (the project's migrator and `supabase db push` alike), and
// this release knows the files it carries: before a tick touches anything, a database that
// lacks some of them (set up by an earlier release, not yet pushed) or has files this
// release does not know (set up by a newer one) stops the run with what to do.
import { MIGRATIONS } from './migrations.js';
import type { Rpc } from './rpc.js';

export class SchemaMismatch extends Error {
  constructor(
    message: string,
    readonly missing: string[],
    readonly unknown: string[],
  ) {
    super(message);
  }
}

/** The migration files this release carries, in order. */
export const KNOWN_MIGRATIONS: readonly string[] = MIGRATIONS.map((m) => m.name);

/** True when the error says the function lsd_schema_info does not exist (SQL or PostgREST). */
function isMissingFunction(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return (
    e?.code === '42883' ||
    e?.code === 'PGRST202' ||
    /lsd_schema_info.*(does not exist|could not find)|PGRST202/i.test(String(e?.message ?? error))
  );
}

/** The migration files the database records as applied; null when it predates the record. */
export async function appliedMigrations(rpc: Rpc): Promise<string[] | null> {
  try {
    const info = await rpc.call<{ applied: string[] }>('lsd_schema_info', {});
    return info.applied;
  } catch (error) {
    if (isMissingFunction(error)) return null;
    throw error;
  }
}

/** How to apply missing migrations, for every way a database is reached. */
export const HOW_TO_MIGRATE =
  "Apply them with `line-step-delivery migrate` (DATABASE_URL, or the CLI's local store), `supabase db push` " +
  '(Supabase), or by pasting each file into the SQL editor in order; a sending tick of this release with ' +
  'database-url applies them too. Apply them only once every workflow that uses this database runs this release ' +
  'or later: an older release refuses a database that is ahead of it.';

/** What is wrong between this release and the database, or undefined when they agree. */
export function compareSchema(
  applied: string[] | null,
  known: readonly string[] = KNOWN_MIGRATIONS,
): SchemaMismatch | undefined {
  // Before the record existed (migration 3), the first two files are all a database can have.
  const have = new Set(applied ?? []);
  const missing = known.filter((name) => !have.has(name) && !(applied === null && name < '20261125000003'));
  const unknown = (applied ?? []).filter((name) => !known.includes(name));
  if (missing.length) {
    return new SchemaMismatch(
      `The database is behind this release of line-step-delivery: ${missing.length} migration file(s) are not applied: ` +
        `${missing.join(', ')} (in supabase/migrations/ of this release). ${HOW_TO_MIGRATE} Nothing was changed.`,
      missing,
      unknown,
    );
  }
  if (unknown.length) {
    return new SchemaMismatch(
      `The database is ahead of this release of line-step-delivery: it has migration(s) this release does not know ` +
        `(${unknown.join(', ')}), so a newer release set it up. Update the action (the uses: line of the workflow) ` +
        'to that release or later. Nothing was changed.',
      missing,
      unknown,
    );
  }
  return undefined;
}

/** Throws SchemaMismatch unless the database has exactly the migrations this release knows. */
export async function assertSchemaCurrent(rpc: Rpc): Promise<void> {
  const mismatch = compareSchema(await appliedMigrations(rpc));
  if (mismatch) throw mismatch;
}
