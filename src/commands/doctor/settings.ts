// The settings doctor reads before any link: the names users and tests rely on
// (SUPABASE_URL, SUPABASE_SECRET_KEY, DATABASE_URL, LINE_CHANNEL_ACCESS_TOKEN), a value
// under a near name that nothing reads (SUPABASE_SERVICE_KEY for SUPABASE_SECRET_KEY), and
// a Supabase key of the wrong kind (the publishable or anon key). Values are never shown.
import type { Settings } from '../config.js';
import { fix, note, ok, type Check } from './checks.js';

/** Names people give these settings, and the name line-step-delivery reads. */
export const NEAR_NAMES: Readonly<Record<string, keyof Settings>> = {
  SUPABASE_SERVICE_KEY: 'SUPABASE_SECRET_KEY',
  SUPABASE_SERVICE_ROLE_KEY: 'SUPABASE_SECRET_KEY',
  SUPABASE_KEY: 'SUPABASE_SECRET_KEY',
  SUPABASE_SECRET: 'SUPABASE_SECRET_KEY',
  SERVICE_ROLE_KEY: 'SUPABASE_SECRET_KEY',
  SUPABASE_PROJECT_URL: 'SUPABASE_URL',
  SUPABASE_API_URL: 'SUPABASE_URL',
  SUPABASE_DB_URL: 'DATABASE_URL',
  POSTGRES_URL: 'DATABASE_URL',
  DB_URL: 'DATABASE_URL',
  LINE_ACCESS_TOKEN: 'LINE_CHANNEL_ACCESS_TOKEN',
  LINE_CHANNEL_TOKEN: 'LINE_CHANNEL_ACCESS_TOKEN',
  LINE_TOKEN: 'LINE_CHANNEL_ACCESS_TOKEN',
  CHANNEL_ACCESS_TOKEN: 'LINE_CHANNEL_ACCESS_TOKEN',
};

/** Where a setting comes from, to say what to rename: environment variables, or the action's inputs from secrets. */
export type SettingsSource = 'env' | 'action';

/** The action input and the secret its example workflow reads, per setting. */
const ACTION_NAMES: Partial<Record<keyof Settings, { input: string; secret: string }>> = {
  SUPABASE_URL: { input: 'supabase-url', secret: 'SUPABASE_URL' },
  SUPABASE_SECRET_KEY: { input: 'supabase-secret-key', secret: 'SUPABASE_SECRET_KEY' },
  DATABASE_URL: { input: 'database-url', secret: 'DATABASE_URL' },
  LINE_CHANNEL_ACCESS_TOKEN: { input: 'line-channel-access-token', secret: 'LINE_CHANNEL_ACCESS_TOKEN' },
};

/** How to provide a setting, in the words of where it is read. */
export function howToSet(name: keyof Settings, source: SettingsSource): string {
  const a = ACTION_NAMES[name];
  if (source === 'action' && a)
    return `the input ${a.input} is empty: the workflow passes \${{ secrets.${a.secret} }}, so create a repository secret named exactly ${a.secret} (Settings → Secrets and variables → Actions)`;
  return `set ${name}`;
}

/** The claims of a JWT's payload, without checking its signature (only its kind is read). */
function jwtRole(key: string): string | undefined {
  const part = key.split('.')[1];
  if (key.split('.').length !== 3 || !part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { role?: unknown };
    return typeof claims.role === 'string' ? claims.role : undefined;
  } catch {
    return undefined;
  }
}

/** What kind of Supabase key this is: the engine needs the secret (or the legacy service_role) key. */
function keyCheck(key: string): Check {
  const name = 'SUPABASE_SECRET_KEY';
  if (key.startsWith('sb_secret_')) return ok('settings', name, 'a secret key (sb_secret_…)');
  if (key.startsWith('sb_publishable_'))
    return fix(
      'settings',
      name,
      'this is the publishable key, which cannot run the engine: use a secret key (Supabase dashboard → Project Settings → API Keys → Secret keys, sb_secret_…)',
    );
  const role = jwtRole(key);
  if (role === 'service_role')
    return note(
      'settings',
      name,
      'a legacy service_role key: it works, but Supabase retires legacy keys; create a secret key (sb_secret_…) and put it in SUPABASE_SECRET_KEY',
    );
  if (role)
    return fix(
      'settings',
      name,
      `this is the legacy ${role} key, which cannot run the engine: use a secret key (sb_secret_…) or the legacy service_role key`,
    );
  return note(
    'settings',
    name,
    'not a key format doctor knows (sb_secret_… or a service_role JWT); the database check says whether it works',
  );
}

function supabaseUrlCheck(url: string): Check {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fix('settings', 'SUPABASE_URL', 'not a URL: write the project URL, https://<ref>.supabase.co');
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '')
    return fix(
      'settings',
      'SUPABASE_URL',
      `has a path (${parsed.pathname}): write the project URL alone, ${parsed.protocol}//${parsed.host}`,
    );
  return ok('settings', 'SUPABASE_URL', parsed.host);
}

/**
 * The settings' checks. `env`: the environment, to find values under near names (the CLI;
 * the action sees only the inputs its workflow passes, so it names the secret to create).
 */
export function settingsChecks(settings: Settings, source: SettingsSource, env: NodeJS.ProcessEnv = {}): Check[] {
  const checks: Check[] = [];
  for (const [near, right] of Object.entries(NEAR_NAMES)) {
    if (!env[near]?.trim() || settings[right]) continue;
    checks.push(
      fix(
        'settings',
        right,
        `${right} is not set, but ${near} is: line-step-delivery reads ${right}; rename ${near} to ${right}`,
      ),
    );
  }
  const named = new Set(checks.map((c) => c.name));
  const missing = (name: keyof Settings, why: string) => {
    if (!named.has(name)) checks.push(fix('settings', name, `${howToSet(name, source)} (${why})`));
  };
  if (settings.SUPABASE_URL) checks.push(supabaseUrlCheck(settings.SUPABASE_URL));
  if (settings.SUPABASE_SECRET_KEY) checks.push(keyCheck(settings.SUPABASE_SECRET_KEY));
  if (!settings.DATABASE_URL) {
    if (settings.SUPABASE_URL && !settings.SUPABASE_SECRET_KEY) missing('SUPABASE_SECRET_KEY', 'SUPABASE_URL is set');
    if (!settings.SUPABASE_URL && settings.SUPABASE_SECRET_KEY) missing('SUPABASE_URL', 'SUPABASE_SECRET_KEY is set');
    if (!settings.SUPABASE_URL && !settings.SUPABASE_SECRET_KEY) {
      missing('SUPABASE_URL', 'the database: SUPABASE_URL and SUPABASE_SECRET_KEY, or DATABASE_URL');
      missing('SUPABASE_SECRET_KEY', 'the database: SUPABASE_URL and SUPABASE_SECRET_KEY, or DATABASE_URL');
    }
  } else checks.push(ok('settings', 'DATABASE_URL', 'set (a direct Postgres connection)'));
  if (!settings.LINE_CHANNEL_ACCESS_TOKEN) missing('LINE_CHANNEL_ACCESS_TOKEN', 'LINE cannot be checked or sent to');
  else checks.push(ok('settings', 'LINE_CHANNEL_ACCESS_TOKEN', 'set'));
  return checks;
}
