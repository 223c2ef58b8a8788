// The report of a period: its bounds checked, the engine's counts fetched page by page
// (lsd_report), and shaped into funnels: per scenario the message steps in order, each
// with what was sent, LINE's open and click rates, and how many dropped off since the bar
// before. Counts only: nothing here holds a user id or a message text.
import { parseTriggerDate } from '../time/dates.js';
import { addLocalDays, DAY, formatLocal, localParts, localToInstant } from '../time/zoned.js';
import type { Store } from '../store/store.js';
import type {
  DayCount,
  HoldoutCounts,
  RouteReport,
  ScenarioReport,
  StepReport,
  UnitStatistics,
} from '../store/report-data.js';
import { liftOf, type Lift } from './lift.js';
import type { LatenessDay } from '../domain.js';

/** LINE gives statistics per unit for a start day and up to 30 days after it (UTC+9). */
export const MAX_PERIOD_DAYS = 30;
/** The zone of dates given without one, and of LINE's statistics days. */
export const REPORT_ZONE = 'Asia/Tokyo';

/** Bad report input (a period, a scenario id): the message says what to write instead. */
export class ReportInputError extends Error {}

export interface ReportPeriod {
  from: number;
  /** Exclusive. */
  to: number;
  label: string;
}

/** A share (0-1) of a base, or why there is none. */
export interface Rate {
  value: number | null;
  /** Why there is no value, or what it leaves out. */
  note?: string;
}

export interface FunnelStep extends StepReport {
  openRate: Rate;
  clickRate: Rate;
  /** Share of the bar before (for the first step: of those who entered) that did not get this step. */
  dropOff: number | null;
}

export interface ScenarioFunnel extends ScenarioReport {
  conversionRate: number | null;
  /** Message steps in the definition's order, then message steps no longer in it that sent something. */
  funnel: FunnelStep[];
  /** Each day of the period in the scenario's zone, zero-filled. */
  days: DayCount[];
  /** The holdout comparison, when someone who entered in the period was held out (docs/measuring.md). */
  holdout?: { counts: HoldoutCounts; lift: Lift };
}

export interface PeriodReport {
  period: ReportPeriod;
  scenarios: ScenarioFunnel[];
  totals: { entered: number; sent: number; goalReached: number; conversions: number; exited: number };
  /** All scenarios added up per day (each scenario's own zone). */
  days: DayCount[];
  /** Friends added per follow route in the period, and what became of them (the most friends first). */
  routes?: { routes: RouteReport[]; more: boolean };
}

const fmtDay = (ms: number, tz: string) => formatLocal(ms, tz).slice(0, 10);

/** The last 7 and the last 30 days up to now. */
export function defaultPeriods(now: number): ReportPeriod[] {
  return [
    { from: now - 7 * DAY, to: now, label: 'last 7 days' },
    { from: now - MAX_PERIOD_DAYS * DAY, to: now, label: `last ${MAX_PERIOD_DAYS} days` },
  ];
}

/** "2026-11-16" (a whole day in Asia/Tokyo), "2026-11-16T09:00+09:00", or epoch ms. */
function parseBound(text: string, name: string, end: boolean): number {
  const v = text.trim();
  const parsed = /^\d{10,}$/.test(v) ? { at: Number(v) } : parseTriggerDate(v, REPORT_ZONE);
  if ('problem' in parsed) {
    throw new ReportInputError(
      `${name} "${v}" is not a date: ${parsed.problem}; write 2026-11-16 (a day in ${REPORT_ZONE}), 2026-11-16T09:00:00+09:00 or epoch milliseconds`,
    );
  }
  // A day alone as the end means the whole of that day.
  return end && /^\d{4}-\d{2}-\d{2}$/.test(v) ? addLocalDays(parsed.at, 1, REPORT_ZONE) : parsed.at;
}

/** The UTC+9 calendar days from..to-1ms span, counted as LINE counts them (a day and 30 after it). */
function lineDaysApart(from: number, to: number): number {
  const a = localParts(from, REPORT_ZONE);
  const b = localParts(to - 1, REPORT_ZONE);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY);
}

/** Checks a period: from before to, at most what LINE gives statistics for. */
export function checkPeriod(from: number, to: number, label: string): ReportPeriod {
  const shown = `${formatLocal(from, REPORT_ZONE)} → ${formatLocal(to, REPORT_ZONE)} (${REPORT_ZONE})`;
  if (!(from < to)) throw new ReportInputError(`the period ${shown} is empty: from must be before to`);
  const apart = lineDaysApart(from, to);
  if (apart > MAX_PERIOD_DAYS) {
    throw new ReportInputError(
      `the period ${shown} spans ${apart + 1} days: LINE gives statistics per unit for at most ${MAX_PERIOD_DAYS + 1} ` +
        `(a start day and ${MAX_PERIOD_DAYS} days after it, in UTC+9); report a shorter period, e.g. one month at a time`,
    );
  }
  return { from, to, label };
}

/** The period of --from / --to (either may be left out: to defaults to now, from to 7 days before to). */
export function periodFromText(fromText: string | undefined, toText: string | undefined, now: number): ReportPeriod {
  const to = toText ? parseBound(toText, 'to', true) : now;
  const from = fromText ? parseBound(fromText, 'from', false) : to - 7 * DAY;
  return checkPeriod(from, to, `${fmtDay(from, REPORT_ZONE)} → ${fmtDay(to - 1, REPORT_ZONE)}`);
}

/** Opens (or clicks) per recipient over the days whose figures LINE gave. */
function rateOf(units: UnitStatistics[], kind: 'open' | 'click'): Rate {
  if (!units.length) return { value: null, note: 'nothing sent' };
  const fetched = units.reduce((n, u) => n + u.daysFetched, 0);
  if (!fetched) return { value: null, note: 'not read from LINE yet' };
  const base = units.reduce((n, u) => n + ((kind === 'open' ? u.sentWithOpens : u.sentWithClicks) ?? 0), 0);
  const count = units.reduce((n, u) => n + ((kind === 'open' ? u.uniqueImpression : u.uniqueClick) ?? 0), 0);
  if (!base) return { value: null, note: 'LINE hides counts under 20' };
  const daysSent = units.reduce((n, u) => n + u.daysSent, 0);
  const sent = units.reduce((n, u) => n + u.sent, 0);
  const note =
    base < sent ? `over ${base} of ${sent} sent (${daysSent - fetched} day(s) not read yet, or under 20)` : undefined;
  return { value: count / base, ...(note ? { note } : {}) };
}

/** Every day of the period in the zone, with the scenario's counts (zero where none). */
function fillDays(days: DayCount[], period: ReportPeriod, tz: string): DayCount[] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const out: DayCount[] = [];
  const first = localParts(period.from, tz);
  for (let i = 0; ; i++) {
    const start = localToInstant(tz, first.year, first.month, first.day + i, 0, 0);
    if (start >= period.to) break;
    const day = fmtDay(start, tz);
    out.push(byDay.get(day) ?? { day, sent: 0, conversions: 0 });
    if (i > 400) break;
  }
  return out;
}

export function shapeScenario(s: ScenarioReport, period: ReportPeriod, holdout?: HoldoutCounts): ScenarioFunnel {
  const messages = s.steps.filter((st) => st.type === 'message' || (!st.inDefinition && st.sent > 0));
  const funnel: FunnelStep[] = [];
  let before = s.entered;
  for (const st of messages) {
    funnel.push({
      ...st,
      openRate: rateOf(st.units, 'open'),
      clickRate: rateOf(st.units, 'click'),
      dropOff: before > 0 ? Math.max(0, (before - st.sent) / before) : null,
    });
    before = st.sent;
  }
  return {
    ...s,
    conversionRate: s.entered > 0 ? s.goalReached / s.entered : null,
    funnel,
    days: fillDays(s.days, period, s.timezone),
    ...(holdout && holdout.heldOut + holdout.moved > 0 ? { holdout: { counts: holdout, lift: liftOf(holdout) } } : {}),
  };
}

export function shapeReport(
  period: ReportPeriod,
  scenarios: ScenarioReport[],
  holdouts: readonly HoldoutCounts[] = [],
): PeriodReport {
  const shaped = scenarios.map((s) =>
    shapeScenario(
      s,
      period,
      holdouts.find((h) => h.scenarioId === s.id),
    ),
  );
  const days = new Map<string, DayCount>();
  for (const s of shaped) {
    for (const d of s.days) {
      const total = days.get(d.day) ?? { day: d.day, sent: 0, conversions: 0 };
      total.sent += d.sent;
      total.conversions += d.conversions;
      days.set(d.day, total);
    }
  }
  const add = (f: (s: ScenarioFunnel) => number) => shaped.reduce((n, s) => n + f(s), 0);
  return {
    period,
    scenarios: shaped,
    totals: {
      entered: add((s) => s.entered),
      sent: add((s) => s.steps.reduce((n, st) => n + st.sent, 0)),
      goalReached: add((s) => s.goalReached),
      conversions: add((s) => s.conversions),
      exited: add((s) => s.exited),
    },
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
  };
}

/** The engine's counts for the period, every page, shaped; an unknown scenario id is refused. */
export async function fetchPeriodReport(
  store: Store,
  period: ReportPeriod,
  options: { scenarioId?: string | undefined; pageSize?: number } = {},
): Promise<PeriodReport> {
  const scenarios: ScenarioReport[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.reportPage({
      from: period.from,
      to: period.to,
      scenarioId: options.scenarioId,
      after,
      limit: options.pageSize ?? 50,
    });
    if (page.unknownScenario) {
      const known = page.known.length
        ? `the database knows ${page.known.join(', ')}`
        : 'the database has no scenario yet (run a tick first)';
      throw new ReportInputError(`there is no scenario "${options.scenarioId}": ${known}`);
    }
    scenarios.push(...page.scenarios);
    if (!page.next) break;
    after = page.next;
  }
  const holdouts = scenarios.length
    ? await store.holdoutReport({ from: period.from, to: period.to, scenarioIds: scenarios.map((s) => s.id) })
    : [];
  const routes = await store.routeReport({ from: period.from, to: period.to });
  return { ...shapeReport(period, scenarios, holdouts), routes };
}

/** How late the ticks of the period served, per day in the report's zone (p50, p95, max seconds). */
export function fetchLateness(store: Store, period: ReportPeriod): Promise<LatenessDay[]> {
  return store.latenessByDay({ from: period.from, to: period.to, zone: REPORT_ZONE });
}
