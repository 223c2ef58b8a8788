// Where the state lives and how LINE is reached, from the configuration names users and
// tests rely on: SUPABASE_URL + SUPABASE_SECRET_KEY, or DATABASE_URL; LINE_CHANNEL_ACCESS_TOKEN
// and LINE_API_BASE_URL. The action passes its inputs under the same names.
import { openPostgres } from '../store/postgres.js';
import { openSupabase } from '../store/supabase.js';
import { migrate, isEmptyDatabase } from '../store/migrate.js';
import {
  appliedMigrations,
  assertSchemaCurrent,
  compareSchema,
  KNOWN_MIGRATIONS,
  SchemaMismatch,
} from '../store/schema-version.js';
import { Store } from '../store/store.js';
import type { Rpc, SqlRpc } from '../store/rpc.js';
import { defaultRate, LineSender, LINE_RATE_LIMITS } from '../line/line-sender.js';
import { NoLineSender, type Sender } from '../line/sender.js';
import type { RunMode } from '../engine/index.js';
import { makeLinkSigner } from '../planner/links.js';
import type { LinkSigner } from '../planner/render.js';

export interface Settings {
  SUPABASE_URL?: string | undefined;
  SUPABASE_SECRET_KEY?: string | undefined;
  DATABASE_URL?: string | undefined;
  LINE_CHANNEL_ACCESS_TOKEN?: string | undefined;
  LINE_API_BASE_URL?: string | undefined;
  /** The local default store's folder. */
  PGLITE_DIR?: string | undefined;
  /** The click function's URL and secret, to track {{link.x}} clicks. */
  CLICK_BASE_URL?: string | undefined;
  CLICK_SIGNING_SECRET?: string | undefined;
  /** Pacing below LINE's limits (default 98% of 2,000 and 200 a second), and requests in flight (default 256). */
  LINE_PUSH_PER_SECOND?: string | undefined;
  LINE_MULTICAST_PER_SECOND?: string | undefined;
  LINE_REQUESTS_IN_FLIGHT?: string | undefined;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const pick = (name: keyof Settings) => (env[name] && env[name].trim() !== '' ? env[name].trim() : undefined);
  return {
    SUPABASE_URL: pick('SUPABASE_URL'),
    SUPABASE_SECRET_KEY: pick('SUPABASE_SECRET_KEY'),
    DATABASE_URL: pick('DATABASE_URL'),
    LINE_CHANNEL_ACCESS_TOKEN: pick('LINE_CHANNEL_ACCESS_TOKEN'),
    LINE_API_BASE_URL: pick('LINE_API_BASE_URL'),
    PGLITE_DIR: pick('PGLITE_DIR'),
    CLICK_BASE_URL: pick('CLICK_BASE_URL'),
    CLICK_SIGNING_SECRET: pick('CLICK_SIGNING_SECRET'),
    LINE_PUSH_PER_SECOND: pick('LINE_PUSH_PER_SECOND'),
    LINE_MULTICAST_PER_SECOND: pick('LINE_MULTICAST_PER_SECOND'),
    LINE_REQUESTS_IN_FLIGHT: pick('LINE_REQUESTS_IN_FLIGHT'),
  };
}

export class ConfigError extends Error {}

/** Opens a local store in a folder: the CLI's embedded PGlite. The action has none. */
export type LocalStoreOpener = (dir: string) => Promise<SqlRpc>;

/**
 * What opening the store may do to its schema:
 * - read-only (the default): nothing; a database behind or ahead of this release stops the
 *   command with the files to apply (report, inspect, forecast, doctor, a plan-only run).
 * - set-up-new: a database with none of line-step-delivery's tables is set up; one set up
 *   before is only checked (import: it must not move forward a database an older action uses).
 * - migrate: missing migrations are applied (a sending or no-line tick, the migrate command).
 * The CLI's local store is its own: a new folder is always set up, whatever the access.
 * Supabase's HTTP API cannot apply migrations (`supabase db push` does): it is only checked.
 */
export type StoreAccess = 'read-only' | 'set-up-new' | 'migrate';

export interface OpenStoreOptions {
  openLocal?: LocalStoreOpener | undefined;
  access?: StoreAccess | undefined;
}

/**
 * Opens the store: DATABASE_URL, else SUPABASE_URL + SUPABASE_SECRET_KEY, else (with
 * openLocal: the CLI) a local store in PGLITE_DIR (default .data/pglite). The action passes
 * no openLocal, so its bundle never contains PGlite. The schema is checked (or migrated, as
 * `access` allows) before the store is handed back.
 */
export async function openStore(settings: Settings, options: OpenStoreOptions = {}): Promise<Store> {
  const access = options.access ?? 'read-only';
  if (settings.DATABASE_URL) return prepared(await openPostgres(settings.DATABASE_URL), access);
  if (settings.SUPABASE_URL || settings.SUPABASE_SECRET_KEY) {
    if (!settings.SUPABASE_URL || !settings.SUPABASE_SECRET_KEY) {
      throw new ConfigError(
        `set both SUPABASE_URL and SUPABASE_SECRET_KEY (only ${settings.SUPABASE_URL ? 'SUPABASE_URL' : 'SUPABASE_SECRET_KEY'} is set)`,
      );
    }
    const rpc = openSupabase(settings.SUPABASE_URL, settings.SUPABASE_SECRET_KEY);
    return checked(rpc, () => assertSchemaCurrent(rpc));
  }
  if (!options.openLocal) {
    throw new ConfigError(
      'no database: pass supabase-url and supabase-secret-key (SUPABASE_URL and SUPABASE_SECRET_KEY), ' +
        'or database-url (DATABASE_URL) for a direct Postgres connection, from your repository secrets',
    );
  }
  const db = await options.openLocal(settings.PGLITE_DIR ?? '.data/pglite');
  return prepared(db, access === 'migrate' ? 'migrate' : 'set-up-new');
}

/** Opens the store without writing anything, its schema checked: for every command that only reads. */
export function openStoreReadOnly(
  settings: Settings,
  options: { openLocal?: LocalStoreOpener | undefined } = {},
): Promise<Store> {
  return openStore(settings, { ...options, access: 'read-only' });
}

/** A direct SQL connection, migrated or checked as `access` allows. */
async function prepared(db: SqlRpc, access: StoreAccess): Promise<Store> {
  return checked(db, async () => {
    const empty = access !== 'migrate' && (await isEmptyDatabase(db));
    if (access === 'migrate' || (access === 'set-up-new' && empty)) {
      // A database ahead of this release is refused before anything is applied.
      const ahead = compareSchema(await appliedMigrations(db));
      if (ahead?.unknown.length) throw ahead;
      await migrate(db);
    } else if (empty) throw new SchemaMismatch(NOT_SET_UP, [...KNOWN_MIGRATIONS], []);
    await assertSchemaCurrent(db);
  });
}

const NOT_SET_UP =
  "The database has none of line-step-delivery's tables yet: set it up with `line-step-delivery migrate` " +
  '(DATABASE_URL), `supabase db push` (Supabase), or a first tick in run mode send or no-line. Nothing was changed.';

/** Runs the check; on failure the connection is closed before the error goes up. */
async function checked(rpc: Rpc, check: () => Promise<void>): Promise<Store> {
  try {
    await check();
  } catch (error) {
    await rpc.close().catch(() => {});
    throw error;
  }
  return new Store(rpc);
}

/** Signs tracked links when both the click URL and its secret are set. */
export function openLinkSigner(settings: Settings): LinkSigner | undefined {
  if (!settings.CLICK_BASE_URL && !settings.CLICK_SIGNING_SECRET) return undefined;
  if (!settings.CLICK_BASE_URL || !settings.CLICK_SIGNING_SECRET)
    throw new ConfigError('set both CLICK_BASE_URL and CLICK_SIGNING_SECRET to track link clicks');
  return makeLinkSigner(settings.CLICK_BASE_URL, settings.CLICK_SIGNING_SECRET);
}

/**
 * The sender of a run mode: LINE for send (which needs the token), else the sender that
 * does not call LINE. The jobs of a matrix (shardCount) send on one channel at once: each
 * paces at its share of LINE's limit, so together they never ask for more than LINE allows.
 */
export function openSender(settings: Settings, options: { mode: RunMode; shardCount?: number | undefined }): Sender {
  if (options.mode !== 'send') return new NoLineSender();
  if (!settings.LINE_CHANNEL_ACCESS_TOKEN)
    throw new ConfigError(
      'LINE_CHANNEL_ACCESS_TOKEN is not set: add it as a secret, or choose run mode no-line or plan-only (LINE not called)',
    );
  const shards = Math.max(1, options.shardCount ?? 1);
  const share = (kind: 'push' | 'multicast') => ({
    max: LINE_RATE_LIMITS[kind] / shards,
    why: shards > 1 ? ` (LINE's ${LINE_RATE_LIMITS[kind]} a second shared by the ${shards} jobs of shard-count)` : '',
  });
  return new LineSender({
    channelAccessToken: settings.LINE_CHANNEL_ACCESS_TOKEN,
    baseURL: settings.LINE_API_BASE_URL,
    pushPerSecond:
      positive('LINE_PUSH_PER_SECOND', settings.LINE_PUSH_PER_SECOND, share('push')) ?? defaultRate('push', shards),
    multicastPerSecond:
      positive('LINE_MULTICAST_PER_SECOND', settings.LINE_MULTICAST_PER_SECOND, share('multicast')) ??
      defaultRate('multicast', shards),
    concurrency: positive('LINE_REQUESTS_IN_FLIGHT', settings.LINE_REQUESTS_IN_FLIGHT, { max: 2000, why: '' }),
  });
}

/** A number setting above zero and at most `max` (LINE's own limit for the rates, or a job's share of it). */
function positive(name: string, value: string | undefined, limit: { max: number; why: string }): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || n > limit.max)
    throw new ConfigError(
      `${name} must be a number above 0 and at most ${+limit.max.toFixed(2)}${limit.why}, got "${value}"`,
    );
  return n;
}
