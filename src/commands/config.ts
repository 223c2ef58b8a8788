// Where the state lives and how LINE is reached, from the configuration names users and
// tests rely on: SUPABASE_URL + SUPABASE_SECRET_KEY, or DATABASE_URL; LINE_CHANNEL_ACCESS_TOKEN
// and LINE_API_BASE_URL. The action passes its inputs under the same names.
import { openPostgres } from '../store/postgres.js';
import { openSupabase } from '../store/supabase.js';
import { migrate } from '../store/migrate.js';
import { Store } from '../store/store.js';
import type { SqlRpc } from '../store/rpc.js';
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
 * Opens the store. With openLocal (the CLI), no setting means a local store in PGLITE_DIR
 * (default .data/pglite), migrated on open. Direct connections are migrated on open too;
 * Supabase is migrated by `supabase db push`. The action passes no openLocal, so its bundle
 * never contains PGlite.
 */
export async function openStore(
  settings: Settings,
  options: { openLocal?: LocalStoreOpener | undefined } = {},
): Promise<Store> {
  if (settings.DATABASE_URL) {
    const db = await openPostgres(settings.DATABASE_URL);
    await migrate(db);
    return new Store(db);
  }
  if (settings.SUPABASE_URL || settings.SUPABASE_SECRET_KEY) {
    if (!settings.SUPABASE_URL || !settings.SUPABASE_SECRET_KEY) {
      throw new ConfigError(
        `set both SUPABASE_URL and SUPABASE_SECRET_KEY (only ${settings.SUPABASE_URL ? 'SUPABASE_URL' : 'SUPABASE_SECRET_KEY'} is set)`,
      );
    }
    return new Store(openSupabase(settings.SUPABASE_URL, settings.SUPABASE_SECRET_KEY));
  }
  if (!options.openLocal) {
    throw new ConfigError(
      'no database: pass supabase-url and supabase-secret-key (SUPABASE_URL and SUPABASE_SECRET_KEY), ' +
        'or database-url (DATABASE_URL) for a direct Postgres connection, from your repository secrets',
    );
  }
  const db = await options.openLocal(settings.PGLITE_DIR ?? '.data/pglite');
  await migrate(db);
  return new Store(db);
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
