// report: funnels and conversions per scenario and step for a period (default: the last 7
// and the last 30 days), with LINE's opens and clicks read back first when a channel token
// is set; as Markdown (the job summary, the terminal) and as one self-contained HTML page.
// Shared by the action's report mode and the CLI's report command. Counts only.
import type { Store } from '../store/store.js';
import { DAY } from '../time/zoned.js';
import {
  defaultPeriods,
  fetchPeriodReport,
  periodFromText,
  fetchLateness,
  type PeriodReport,
  type ReportPeriod,
} from '../report/period-report.js';
import {
  describeLineFailure,
  lineStatisticsSource,
  refreshUnitStatistics,
  unitUsage,
  type RefreshOutcome,
  type UnitStatisticsSource,
  type UnitUsage,
} from '../report/line-statistics.js';
import { reportMarkdown } from '../report/report-markdown.js';
import { reportHtml } from '../report/report-html.js';
import type { DatabasePlan } from '../engine/index.js';
import { reportForecastAndStorage } from './forecast.js';
import type { ClockFigures } from '../report/lateness.js';
import { readDispatcher } from '../store/dispatcher.js';

export { ReportInputError } from '../report/period-report.js';

export interface ReportCommandOptions {
  /** Opens the store (the caller's configuration: the action's inputs, the CLI's environment). */
  openStore: () => Promise<Store>;
  /** LINE's channel token and base URL, to read LINE's statistics; without a token they are not read. */
  line?: { channelAccessToken?: string | undefined; baseURL?: string | undefined } | undefined;
  now: number;
  /** --from / --to (report-from / report-to): a day (Asia/Tokyo), an ISO instant, or epoch ms. */
  from?: string | undefined;
  to?: string | undefined;
  scenarioId?: string | undefined;
  /** Where LINE's statistics come from; default: LINE, when a channel token is set. null: do not read them. */
  statistics?: UnitStatisticsSource | null | undefined;
  /** LINE requests for statistics in one report (default 100; the rest waits for the next report). */
  statisticsLimit?: number | undefined;
  /** The database's plan, for the months left (default Supabase Free). */
  databasePlan?: DatabasePlan | undefined;
}

export interface ReportOutcome {
  reports: PeriodReport[];
  markdown: string;
  html: string;
  notes: string[];
  refresh?: RefreshOutcome;
  usage?: UnitUsage;
}

/** The periods asked for: --from/--to, else the last 7 and 30 days. Checked before any I/O. */
export function reportPeriods(options: {
  from?: string | undefined;
  to?: string | undefined;
  now: number;
}): ReportPeriod[] {
  return options.from || options.to
    ? [periodFromText(options.from, options.to, options.now)]
    : defaultPeriods(options.now);
}

function statisticsSource(options: ReportCommandOptions): UnitStatisticsSource | null {
  if (options.statistics !== undefined) return options.statistics;
  const token = options.line?.channelAccessToken;
  return token ? lineStatisticsSource({ channelAccessToken: token, baseURL: options.line?.baseURL }) : null;
}

/** Reads back LINE's statistics for the periods' units and days, and the month's unit usage: notes for what could not be done. */
async function refreshStatistics(
  store: Store,
  source: UnitStatisticsSource | null,
  periods: ReportPeriod[],
  options: ReportCommandOptions,
): Promise<{ notes: string[]; refresh?: RefreshOutcome; usage?: UnitUsage }> {
  if (!source) return { notes: ["ℹ️ LINE's opens and clicks were not read: no LINE channel access token was given."] };
  const notes: string[] = [];
  const from = Math.min(...periods.map((p) => p.from));
  const to = Math.max(...periods.map((p) => p.to));
  const refresh = await refreshUnitStatistics(store, source, {
    from,
    to,
    now: options.now,
    limit: options.statisticsLimit ?? 100,
  });
  if (refresh.stopped)
    notes.push(`⚠️ LINE's statistics: ${refresh.stopped}. ${refresh.fetched} unit-day(s) read in this report.`);
  else if (refresh.left > 0)
    notes.push(`ℹ️ LINE's statistics: ${refresh.fetched} unit-day(s) read; ${refresh.left} more at the next report.`);
  let usage: UnitUsage | undefined;
  try {
    usage = unitUsage(await source.unitsUsedThisMonth());
    if (usage.warning) notes.push(`⚠️ ${usage.warning}`);
  } catch (error) {
    notes.push(`⚠️ LINE's count of aggregation units used this month could not be read: ${describeLineFailure(error)}`);
  }
  return { notes, refresh, ...(usage ? { usage } : {}) };
}

export async function reportCommand(options: ReportCommandOptions): Promise<ReportOutcome> {
  const periods = reportPeriods(options);
  const store = await options.openStore();
  try {
    if (options.scenarioId !== undefined) {
      // An unknown scenario is refused before LINE is asked for anything.
      await fetchPeriodReport(
        store,
        { from: options.now - DAY, to: options.now, label: 'check' },
        { scenarioId: options.scenarioId, pageSize: 0 },
      );
    }
    const stats = await refreshStatistics(store, statisticsSource(options), periods, options);
    const reports: PeriodReport[] = [];
    for (const period of periods)
      reports.push(await fetchPeriodReport(store, period, { scenarioId: options.scenarioId }));
    // The next 30 days' messages and the database's size (src/commands/forecast.ts).
    const extras = await reportForecastAndStorage(store, options.now, options.databasePlan);
    const notes = [...stats.notes, ...extras.notes];
    const clock = await runsAndLateness(store, periods, options.now);
    const meta = {
      now: options.now,
      store: store.label,
      notes,
      forecast: extras.forecast,
      storage: extras.storage,
      clock,
    };
    return {
      reports,
      markdown: reportMarkdown(reports, meta),
      html: reportHtml(reports, meta),
      notes,
      ...(stats.refresh ? { refresh: stats.refresh } : {}),
      ...(stats.usage ? { usage: stats.usage } : {}),
    };
  } finally {
    await store.close();
  }
}

/** Lateness per day over the longest period, and this month's runs and billed minutes against the budget. */
async function runsAndLateness(store: Store, periods: ReportPeriod[], now: number): Promise<ClockFigures> {
  const longest = periods.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a));
  const lateness = await fetchLateness(store, longest);
  const { month } = await readDispatcher(store.rpc, { now, limit: 1 });
  return { lateness, month };
}
