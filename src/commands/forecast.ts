// forecast: the messages LINE will count in the next 30 days, per scenario, from the
// scenario files of DIR and the database (who is inside now, the last 30 days' entries),
// against the channel's quota when a token is given; with a base revision, what the change
// adds or removes. Read only: the store is opened without migrating and nothing is written.
import { relative, resolve } from 'node:path';
import { messagingApi } from '@line/bot-sdk';
import { loadScenarioDir, loadScenarioTexts } from '../scenario/loader.js';
import { formatIssue } from '../scenario/issues.js';
import { compileScenario, type CompiledScenario } from '../scenario/compile.js';
import { ScenarioSchema } from '../scenario/schema.js';
import { scenarioTextsAtRef } from '../preview/git-base.js';
import { withTimeout } from '../line/line-calls.js';
import { activeEnrollments, definitionsInForce, entriesSince } from '../store/forecast.js';
import { storageRead } from '../store/retention.js';
import { outlook, parseDatabasePlan, type DatabasePlan } from '../engine/index.js';
import type { StorageFigures } from '../report/storage.js';
import type { Store } from '../store/store.js';
import {
  forecastChanges,
  forecastMessages,
  FORECAST_DAYS,
  type Forecast,
  type ForecastChange,
  type InsideEnrollment,
} from '../report/forecast.js';
import { forecastChangeMarkdown, forecastMarkdown } from '../report/forecast-markdown.js';
import { openStoreReadOnly, type LocalStoreOpener, type Settings } from './config.js';

const DAY = 86_400_000;

export interface ForecastOptions {
  settings: Settings;
  dir: string;
  now: number;
  /** The CLI's local store when no database is configured. */
  openLocalStore?: LocalStoreOpener | undefined;
  /** A git revision whose scenario definitions the change is measured against (a PR's base). */
  baseRef?: string | undefined;
  cwd?: string | undefined;
}

export interface ForecastOutcome {
  forecast: Forecast;
  /** With baseRef: per scenario, the base's forecast against this one. */
  changes?: ForecastChange[];
  markdown: string;
}

export class ForecastProblem extends Error {}

/** The definitions of a folder, or the problems that stop the forecast (file:line: message). */
async function definitions(dir: string, cwd: string): Promise<CompiledScenario[]> {
  const loaded = await loadScenarioDir(dir, cwd);
  if (loaded.issues.length)
    throw new ForecastProblem(
      `the scenarios have ${loaded.issues.length} problem(s); fix them first (line-step-delivery validate):\n` +
        loaded.issues.map(formatIssue).join('\n'),
    );
  return loaded.scenarios.map((s) => s.compiled);
}

/** What the database says: who is inside now and the last 30 days' entries. */
export async function readForecastFacts(
  store: Store,
  now: number,
): Promise<{ inside: InsideEnrollment[]; entriesLast30Days: Record<string, number> }> {
  const inside: InsideEnrollment[] = [];
  for await (const page of activeEnrollments(store.rpc)) inside.push(...page);
  const entriesLast30Days = await entriesSince(store.rpc, now - FORECAST_DAYS * DAY);
  return { inside, entriesLast30Days };
}

/** LINE's quota this month (GET /v2/bot/message/quota and /quota/consumption), or why not. */
export async function readQuota(settings: Settings): Promise<Forecast['quota']> {
  if (!settings.LINE_CHANNEL_ACCESS_TOKEN) return undefined;
  const client = new messagingApi.MessagingApiClient({
    channelAccessToken: settings.LINE_CHANNEL_ACCESS_TOKEN,
    ...(settings.LINE_API_BASE_URL ? { baseURL: settings.LINE_API_BASE_URL } : {}),
  });
  try {
    const [quota, used] = await Promise.all([
      withTimeout(client.getMessageQuota(), 10_000),
      withTimeout(client.getMessageQuotaConsumption(), 10_000),
    ]);
    return { limit: quota.type === 'limited' ? (quota.value ?? 0) : null, used: used.totalUsage };
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    return {
      error:
        status === 401 || status === 403
          ? `LINE refused the channel access token (${String(status)}): check LINE_CHANNEL_ACCESS_TOKEN`
          : `LINE did not answer${typeof status === 'number' ? ` (${status})` : ''}; the forecast stands without it`,
    };
  }
}

/** The forecast of DIR's scenarios; with baseRef, also the change against the base's definitions. */
export async function forecastCommand(options: ForecastOptions): Promise<ForecastOutcome> {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir);
  const head = await definitions(dir, cwd);
  const base = options.baseRef
    ? loadScenarioTexts(await scenarioTextsAtRef(options.baseRef, relative(cwd, dir) || '.', cwd)).scenarios.map(
        (s) => s.compiled,
      )
    : undefined;
  const store = await openStoreReadOnly(options.settings, { openLocal: options.openLocalStore });
  let facts;
  try {
    facts = await readForecastFacts(store, options.now);
  } finally {
    await store.close();
  }
  const forecast = forecastMessages({ now: options.now, scenarios: head, ...facts });
  forecast.quota = await readQuota(options.settings);
  if (!base) return { forecast, markdown: forecastMarkdown(forecast) };
  const changes = forecastChanges(forecastMessages({ now: options.now, scenarios: base, ...facts }), forecast);
  return {
    forecast,
    changes,
    markdown: `${forecastChangeMarkdown(changes, forecast.days)}\n${forecastMarkdown(forecast, '#### The forecast with this change')}`,
  };
}

/**
 * The forecast of the definitions in force in the database (the report's section: the
 * report has no scenario folder). A stored definition this release cannot read is left out.
 */
export async function forecastInForce(store: Store, now: number): Promise<Forecast> {
  const scenarios: CompiledScenario[] = [];
  for (const d of await definitionsInForce(store.rpc)) {
    const parsed = ScenarioSchema.safeParse(d.definition);
    if (parsed.success) scenarios.push(compileScenario(parsed.data));
  }
  return forecastMessages({ now, scenarios, ...(await readForecastFacts(store, now)) });
}

/**
 * The report's two sections: the forecast of the definitions in force and the database's
 * size against its plan. Read only; what cannot be read becomes a note, never a failed report.
 */
export async function reportForecastAndStorage(
  store: Store,
  now: number,
  plan: DatabasePlan = parseDatabasePlan('free'),
): Promise<{ forecast?: Forecast; storage?: StorageFigures; notes: string[] }> {
  const out: { forecast?: Forecast; storage?: StorageFigures; notes: string[] } = { notes: [] };
  try {
    out.forecast = await forecastInForce(store, now);
  } catch (error) {
    out.notes.push(`⚠️ The forecast could not be made: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const sample = await storageRead(store.rpc, now);
    out.storage = outlook(sample.bytes, sample.then, now, plan);
  } catch (error) {
    out.notes.push(
      `⚠️ The database's size could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return out;
}

/**
 * The PR preview's section, when the check can read the database (DATABASE_URL, or
 * SUPABASE_URL and SUPABASE_SECRET_KEY): the next 30 days with this change, and against
 * the base's definitions when there is a base. Without a database, nothing; a forecast
 * that fails is a note, never a failed check.
 */
export async function previewForecast(options: {
  settings: Settings;
  dir: string;
  baseRef?: string | undefined;
  now: number;
  cwd?: string | undefined;
}): Promise<string> {
  const s = options.settings;
  if (!s.DATABASE_URL && !(s.SUPABASE_URL && s.SUPABASE_SECRET_KEY)) return '';
  try {
    const outcome = await forecastCommand({ ...options, settings: s });
    return `\n${outcome.markdown}`;
  } catch (error) {
    const why = error instanceof ForecastProblem ? 'the scenarios have problems (above)' : describe(error);
    return `\n> The forecast of messages could not be made: ${why}.\n`;
  }
}

/** An error's kind and message, without anything from the connection string. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  return `${error.name}: ${error.message.replace(/postgres(ql)?:\/\/\S+/g, '<database>')}`;
}
