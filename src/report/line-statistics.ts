// LINE's statistics per aggregation unit, read back into line_unit_statistics: each step
// is sent with customAggregationUnits named after it, and LINE counts, per unit, the
// users who opened the message and who opened a URL in it. Asked one UTC+9 day at a time
// (GET /v2/bot/insight/message/event/aggregation, from = to = that day), so that a stored
// day adds up with the report's own "sent" of the same day. Only the counts are kept:
// LINE's answer also lists the URLs opened, and a tracked link's URL names its user.
import { HTTPFetchError, insight, messagingApi } from '@line/bot-sdk';
import type { Store } from '../store/store.js';
import type { UnitDayStatistics } from '../store/report-data.js';

/** LINE: up to 1,000 different unit names per channel a month, counted again from the 1st. */
export const LINE_UNIT_CAP = 1000;
/** Warn from this share of the cap on. */
const WARN_SHARE = 0.8;

/** Where the statistics come from: LINE, or a stand-in in tests. */
export interface UnitStatisticsSource {
  /** One unit's statistics for the messages of one UTC+9 day (yyyyMMdd). */
  unitDay(unit: string, day: string): Promise<Omit<UnitDayStatistics, 'unit' | 'day'>>;
  /** Unit names used this month (GET /v2/bot/message/aggregation/info). */
  unitsUsedThisMonth(): Promise<number>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from LINE within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sum = (values: (number | null | undefined)[]): number | null => {
  const known = values.filter((v): v is number => typeof v === 'number');
  return known.length ? known.reduce((a, b) => a + b, 0) : null;
};

/** The statistics source over LINE's API (LINE_API_BASE_URL in tests: the loopback server). */
export function lineStatisticsSource(options: {
  channelAccessToken: string;
  baseURL?: string | undefined;
  timeoutMs?: number;
}): UnitStatisticsSource {
  const config = {
    channelAccessToken: options.channelAccessToken,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  };
  const insightClient = new insight.InsightClient(config);
  const messaging = new messagingApi.MessagingApiClient(config);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async unitDay(unit, day) {
      const r = await withTimeout(insightClient.getStatisticsPerUnit(unit, day, day), timeoutMs);
      return {
        uniqueImpression: r.overview?.uniqueImpression ?? null,
        uniqueClick: r.overview?.uniqueClick ?? null,
        uniqueMediaPlayed: r.overview?.uniqueMediaPlayed ?? null,
        impression: sum((r.messages ?? []).map((m) => m.impression)),
        // Clicks are added up without their URLs (a tracked link's URL names its user).
        click: sum((r.clicks ?? []).map((c) => c.click)),
      };
    },
    async unitsUsedThisMonth() {
      const r = await withTimeout(messaging.getAggregationUnitUsage(), timeoutMs);
      return Number(r.numOfCustomAggregationUnits);
    },
  };
}

export interface RefreshOutcome {
  /** Unit-days read back and stored. */
  fetched: number;
  /** Unit-days still to read (beyond this run's limit, or after a stop). */
  left: number;
  /** Why the refresh stopped early, for the summary (no user data: LINE's status and message). */
  stopped?: string;
}

/** What LINE's refusal means, in words for the summary (LINE's status and message: no user data). */
export function describeLineFailure(error: unknown): string {
  if (error instanceof HTTPFetchError) {
    let message: string;
    try {
      const said = (JSON.parse(error.body) as { message?: unknown }).message;
      message = typeof said === 'string' ? said : '';
    } catch {
      message = '';
    }
    const said = message ? `: "${message.slice(0, 200)}"` : '';
    if (error.status === 429) return `LINE's rate limit (429${said}); the rest is read at the next report`;
    if (error.status === 401 || error.status === 403) {
      return `LINE refused the statistics request (${error.status}${said}); statistics per unit need a channel token allowed to read insights`;
    }
    return `LINE answered ${error.status}${said}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads back the units and days of the period that are missing or not settled yet, up to
 * `limit` requests, one at a time (LINE limits how often insights are asked for), and
 * stores each as it comes: a stop keeps what was read.
 */
export async function refreshUnitStatistics(
  store: Store,
  source: UnitStatisticsSource,
  args: { from: number; to: number; now: number; limit?: number },
): Promise<RefreshOutcome> {
  const limit = args.limit ?? 100;
  const { due, more } = await store.unitStatsDue({ from: args.from, to: args.to, now: args.now, limit });
  let fetched = 0;
  const left = (): number => due.length - fetched + (more ? 1 : 0);
  for (const item of due) {
    try {
      const stats = await source.unitDay(item.unit, item.day);
      await store.saveUnitStats(args.now, [{ unit: item.unit, day: item.day, ...stats }]);
      fetched++;
    } catch (error) {
      return { fetched, left: left(), stopped: describeLineFailure(error) };
    }
  }
  return { fetched, left: left() };
}

export interface UnitUsage {
  used: number;
  cap: number;
  /** A warning for the summary when the month's unit names run short, else undefined. */
  warning?: string;
}

/** The month's unit names used, against LINE's cap; a warning from 80% on. */
export function unitUsage(used: number, cap = LINE_UNIT_CAP): UnitUsage {
  const share = used / cap;
  if (used >= cap) {
    return {
      used,
      cap,
      warning:
        `LINE's cap on aggregation units is reached: ${used.toLocaleString('en')} of ${cap.toLocaleString('en')} unit names used this month. ` +
        'LINE accepts no new unit name until the 1st of next month (UTC+9): a step first sent now has no statistics this month. ' +
        'Share one "aggregationUnit" between steps that need no figures of their own, or retire unused scenarios.',
    };
  }
  if (share >= WARN_SHARE) {
    return {
      used,
      cap,
      warning:
        `LINE's aggregation units are running short: ${used.toLocaleString('en')} of ${cap.toLocaleString('en')} unit names used this month ` +
        `(${Math.round(share * 100)}%). Past ${cap.toLocaleString('en')}, LINE accepts no new unit name until the 1st of next month.`,
    };
  }
  return { used, cap };
}
