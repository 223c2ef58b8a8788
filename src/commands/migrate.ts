// migrate: brings the database forward to this release's schema, on purpose. The only other
// command that migrates is a tick that advances state (send or no-line); everything that
// reads (report, inspect, forecast, doctor, a plan-only run) stops and names the files instead.
import { openStore, ConfigError, settingsFromEnv, type LocalStoreOpener, type Settings } from './config.js';
import type { CommandArgs } from './command-line.js';
import { appliedMigrations, compareSchema, KNOWN_MIGRATIONS } from '../store/schema-version.js';
import { openPostgres } from '../store/postgres.js';
import type { SqlRpc } from '../store/rpc.js';

export interface MigrateOutcome {
  /** The migration files applied now, in order (none when the database was current). */
  applied: string[];
  /** Where: the store's label (never a secret). */
  store: string;
}

/** Applies the migrations this release carries that the database lacks; refuses a database that is ahead. */
export async function migrateCommand(options: {
  settings: Settings;
  openLocal?: LocalStoreOpener | undefined;
}): Promise<MigrateOutcome> {
  const { settings } = options;
  if (!settings.DATABASE_URL && (settings.SUPABASE_URL || settings.SUPABASE_SECRET_KEY))
    throw new ConfigError(
      "migrate needs a direct connection: Supabase's HTTP API cannot apply SQL files. Run `supabase db push` " +
        'from the repository (the files are in supabase/migrations/), or set DATABASE_URL to the connection string ' +
        '(Project Settings, Database) and run migrate again.',
    );
  const before = await appliedBefore(settings, options.openLocal);
  const store = await openStore(settings, { openLocal: options.openLocal, access: 'migrate' });
  try {
    const after = new Set(await appliedMigrations(store.rpc));
    const applied = KNOWN_MIGRATIONS.filter((name) => after.has(name) && !before.has(name));
    return { applied, store: store.label };
  } finally {
    await store.close();
  }
}

/** The files the database records before migrating (a direct connection, or the local store). */
async function appliedBefore(settings: Settings, openLocal: LocalStoreOpener | undefined): Promise<Set<string>> {
  let db: SqlRpc;
  if (settings.DATABASE_URL) db = await openPostgres(settings.DATABASE_URL);
  else if (openLocal) db = await openLocal(settings.PGLITE_DIR ?? '.data/pglite');
  else
    throw new ConfigError(
      'no database: set DATABASE_URL (a direct Postgres connection) to apply the migrations, or run `supabase db push`',
    );
  try {
    // A database ahead of this release: say so before anything is applied.
    const applied = await appliedMigrations(db).catch(() => null);
    const mismatch = compareSchema(applied);
    if (mismatch?.unknown.length) throw mismatch;
    return new Set(applied ?? []);
  } finally {
    await db.close();
  }
}

/** What the command prints. */
export function migrateText(outcome: MigrateOutcome): string {
  if (!outcome.applied.length) return `${outcome.store}: the schema is current (nothing to apply).\n`;
  return `${outcome.store}: applied ${outcome.applied.length} migration file(s):\n${outcome.applied.map((n) => `  ${n}\n`).join('')}`;
}

/** The CLI's migrate: its arguments (none) and what --help says. */
export const MIGRATE_ARGS: CommandArgs = {
  usage: 'migrate',
  about: [
    "apply this release's migrations the database lacks (DATABASE_URL, or the",
    'local store); the only command besides a send or no-line run that changes',
    "the schema (Supabase's HTTP API: supabase db push). Apply them once every",
    'workflow on this database uses this release: an older one refuses a newer schema',
  ],
  options: {},
  positionals: 0,
};

/** Runs migrate from the environment's settings; prints what was applied. */
export async function runMigrate(openLocal?: LocalStoreOpener): Promise<number> {
  process.stdout.write(migrateText(await migrateCommand({ settings: settingsFromEnv(), openLocal })));
  return 0;
}
