// line-step-delivery doctor (and the action's mode doctor): checks each link a delivery
// needs and says, for each, ok or what to do, in the order a person fixes them: the
// settings, the database, LINE, the events, the dispatcher, the scenarios. Read-only: it
// never migrates, registers or sends. Never prints a token, user id or message text.
import type { Settings } from './config.js';
import { broken, type Check } from './doctor/checks.js';
import { settingsChecks, type SettingsSource } from './doctor/settings.js';
import { databaseChecks } from './doctor/database.js';
import { lineChecks } from './doctor/line.js';
import { eventChecks } from './doctor/events.js';
import { dispatcherChecks } from './doctor/dispatcher.js';
import { scenarioChecks } from './doctor/scenarios.js';

export { formatChecks, checksMarkdown, type Check } from './doctor/checks.js';

export interface DoctorOptions {
  settings: Settings;
  /** env: the CLI (near names in the environment are found); action: the inputs from the workflow's secrets. */
  source: SettingsSource;
  /** The environment, to find settings under near names (SUPABASE_SERVICE_KEY). */
  env?: NodeJS.ProcessEnv;
  /** The scenario folder. */
  dir: string;
  cwd?: string;
  /** The channel meant (its name or basic id): a token of another channel is a fix. */
  expectChannel?: string | undefined;
  now?: number;
}

export interface DoctorOutcome {
  checks: Check[];
  /** Some link needs a fix: exit 1. */
  broken: boolean;
}

export async function doctor(options: DoctorOptions): Promise<DoctorOutcome> {
  const { settings } = options;
  const now = options.now ?? Date.now();
  const checks: Check[] = settingsChecks(settings, options.source, options.env ?? {});
  const db = await databaseChecks(settings, now);
  try {
    checks.push(...db.checks);
    checks.push(
      ...(await lineChecks({
        channelAccessToken: settings.LINE_CHANNEL_ACCESS_TOKEN,
        baseURL: settings.LINE_API_BASE_URL,
        supabaseUrl: settings.SUPABASE_URL,
        expectChannel: options.expectChannel,
      })),
    );
    checks.push(...eventChecks(db.facts));
    checks.push(...(await dispatcherChecks(db.rpc, db.facts)));
    const line = settings.LINE_CHANNEL_ACCESS_TOKEN
      ? { channelAccessToken: settings.LINE_CHANNEL_ACCESS_TOKEN, baseURL: settings.LINE_API_BASE_URL }
      : undefined;
    checks.push(...(await scenarioChecks({ dir: options.dir, cwd: options.cwd, line }, db.facts)));
  } finally {
    await db.rpc?.close().catch(() => {});
  }
  return { checks, broken: broken(checks) };
}
