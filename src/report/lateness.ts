// Lateness as people read it (issue 28, item 6): per day, how late the sending ticks served
// their steps (p50, p95, max seconds from a step's moment to LINE's acceptance), and the
// alert when a day's p95 passes the threshold a team sets (lateness-alert-seconds). Counts
// only: no user id, no text.
import type { ActionsUsage, LatenessDay } from '../domain.js';
import { DAY, formatLocal } from '../time/zoned.js';

/** The zone of lateness days (as the report's). */
export const LATENESS_ZONE = 'Asia/Tokyo';
/** The days the job summary shows. */
export const LATENESS_DAYS = 7;

/** The span of the last `days` days up to now, for latenessByDay. */
export function latenessSpan(now: number, days = LATENESS_DAYS): { from: number; to: number; zone: string } {
  return { from: now - days * DAY, to: now + 1, zone: LATENESS_ZONE };
}

/** "45 s", "12.5 min", "3.2 h": a lateness a person reads at a glance. */
export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A Markdown table of the days, newest first; none when there are no days. */
export function latenessTable(days: LatenessDay[]): string[] {
  if (!days.length) return [];
  return [
    `| day (${LATENESS_ZONE}) | ticks | steps sent | p50 | p95 | max |`,
    '|---|---:|---:|---:|---:|---:|',
    ...[...days]
      .reverse()
      .map(
        (d) =>
          `| ${d.day} | ${d.runs} | ${d.served} | ${formatSeconds(d.p50)} | ${formatSeconds(d.p95)} | ${formatSeconds(d.max)} |`,
      ),
  ];
}

/** The job summary's section: how late steps went out, per day. */
export function latenessSection(days: LatenessDay[]): string[] {
  if (!days.length) return [];
  return [
    '',
    '## Lateness (a step’s moment to LINE’s acceptance)',
    '',
    ...latenessTable(days),
    '',
    'p50 and p95 are read from buckets about 5% wide (never above max).',
  ];
}

/**
 * Why a person should look, when today's p95 (the day of now, in LATENESS_ZONE) passes the
 * threshold (seconds); none without a threshold or a send today. A bad yesterday does not keep
 * the alert open: the first tick of a good day closes it.
 */
export function latenessAlertReason(
  days: LatenessDay[],
  thresholdSeconds: number | undefined,
  now: number,
): string | undefined {
  const today = days.find((d) => d.day === formatLocal(now, LATENESS_ZONE).slice(0, 10));
  if (thresholdSeconds === undefined || !today || today.p95 <= thresholdSeconds) return undefined;
  return (
    `steps went out late on ${today.day} (${LATENESS_ZONE}): p95 ${formatSeconds(today.p95)}, max ${formatSeconds(today.max)} ` +
    `over ${today.served} step(s), past lateness-alert-seconds ${thresholdSeconds}. GitHub delays or drops scheduled runs: ` +
    'set up the dispatcher (line-step-delivery dispatcher setup) so ticks start when work is due, check `dispatcher status` ' +
    'for its last answers, or raise the threshold.'
  );
}

/** Parses the lateness-alert-seconds input: empty for none, else a positive number of seconds. */
export function parseLatenessAlertSeconds(text: string | undefined): number | undefined {
  const v = (text ?? '').trim();
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(
      `lateness-alert-seconds "${v}" is not a positive number of seconds: write e.g. 300 (alert when a day's p95 passes 5 minutes), or leave it empty for no alert`,
    );
  return n;
}

/** "412 runs, 431 billed minutes of a budget of 2,000 (22%)", or without a budget. */
export function usageText(usage: ActionsUsage, budgetMinutes: number | null | undefined): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const base = `${n(usage.runs)} run(s), ${n(usage.billedMinutes)} billed Actions minute(s)`;
  if (budgetMinutes === null || budgetMinutes === undefined) return `${base} (no budget set)`;
  const share = budgetMinutes > 0 ? ` (${Math.round((100 * usage.billedMinutes) / budgetMinutes)}%)` : '';
  return `${base} of a budget of ${n(budgetMinutes)}${share}`;
}

/** This month's runs and billed minutes (as the dispatcher's status reads them: lsd_dispatcher_status). */
export interface MonthMinutes {
  runs: number;
  billedMinutes: number;
  /** null: no budget (none set, or a public repository: minutes are free). */
  budgetMinutes: number | null;
}

/** What the period report shows of the clock: lateness per day, and this month's minutes. */
export interface ClockFigures {
  lateness: LatenessDay[];
  month?: MonthMinutes | undefined;
}

/** "This month: 412 run(s), 431 billed Actions minute(s) of a budget of 2,000 (22%)." */
export function monthMinutesLine(m: MonthMinutes): string {
  return `This month (UTC): ${usageText({ runs: m.runs, billedMinutes: m.billedMinutes, unfinished: 0 }, m.budgetMinutes)}.`;
}

/** The report's Markdown section: this month's minutes, then lateness per day of the period. */
export function clockMarkdown(c: ClockFigures): string {
  const out = ['## Runs and lateness', ''];
  if (c.month) out.push(monthMinutesLine(c.month), '');
  out.push(
    ...(c.lateness.length
      ? [...latenessTable(c.lateness), '', 'From a step’s moment to LINE’s acceptance, over the steps sent each day.']
      : ['No step was sent in this period.']),
  );
  return out.join('\n');
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The report page's section: the same figures as an HTML table. */
export function clockHtml(c: ClockFigures): string {
  const month = c.month ? `<p>${escapeHtml(monthMinutesLine(c.month))}</p>` : '';
  const rows = [...c.lateness]
    .reverse()
    .map(
      (d) =>
        `<tr><td>${escapeHtml(d.day)}</td><td>${d.runs}</td><td>${d.served}</td><td>${escapeHtml(formatSeconds(d.p50))}</td>` +
        `<td>${escapeHtml(formatSeconds(d.p95))}</td><td>${escapeHtml(formatSeconds(d.max))}</td></tr>`,
    )
    .join('');
  const table = c.lateness.length
    ? `<table class="lateness"><thead><tr><th>day (${LATENESS_ZONE})</th><th>ticks</th><th>steps sent</th><th>p50</th><th>p95</th><th>max</th></tr></thead><tbody>${rows}</tbody></table>` +
      '<p>From a step’s moment to LINE’s acceptance, over the steps sent each day.</p>'
    : '<p>No step was sent in this period.</p>';
  return `<section class="clock"><h2>Runs and lateness</h2>${month}${table}</section>`;
}
