// The report as Markdown for the job summary: per period and scenario, the funnel as a
// Mermaid bar chart (one bar per message step) and a table, then sends and conversions per
// day. Counts, scenario and step ids and names only: job summaries are public to the
// repository's readers.
import type { DayCount, StepReport } from '../store/report-data.js';
import type { FunnelStep, PeriodReport, Rate, ScenarioFunnel } from './period-report.js';
import { mdCode, mdText, mermaidLabel } from '../contract/markdown-text.js';
import type { Forecast } from './forecast.js';
import { forecastMarkdown } from './forecast-markdown.js';
import { storageSentence, type StorageFigures } from './storage.js';
import { clockMarkdown, type ClockFigures } from './lateness.js';
import { holdoutSentences } from './holdout-text.js';
import { ROUTE_HEADERS, routeCells, routeNote } from './routes-text.js';

export interface ReportMeta {
  /** When the report was made (epoch ms). */
  now: number;
  /** Where the state lives (never a secret). */
  store: string;
  /** Warnings and notes for the top of the report (no user data). */
  notes: string[];
  /** The messages LINE will count in the next 30 days, per scenario (src/report/forecast.ts). */
  forecast?: Forecast | undefined;
  /** The database's size against its plan. */
  storage?: StorageFigures | undefined;
  /** This month's runs and billed minutes, and lateness per day (src/report/lateness.ts). */
  clock?: ClockFigures | undefined;
}

export const count = (n: number): string => n.toLocaleString('en');
export const percent = (share: number | null): string => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);
export const rateText = (r: Rate): string => (r.value === null ? '—' : `${percent(r.value)}${r.note ? '*' : ''}`);

/** A table cell: nothing from a name or an id breaks the table or renders as Markdown (src/contract/markdown-text.ts). */
const cell = mdText;
/** A Mermaid string in double quotes. */
const quoted = (text: string): string => mermaidLabel(text, { entities: false });

function niceMax(values: number[]): number {
  const max = Math.max(1, ...values);
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

/** The funnel of one scenario: a bar per message step, sent in the period. */
export function funnelChart(s: ScenarioFunnel): string {
  const bars = s.funnel.map((f) => f.sent);
  return [
    '```mermaid',
    'xychart-beta',
    `  title ${quoted(`${s.id}: sent per step (entered ${count(s.entered)})`)}`,
    `  x-axis [${s.funnel.map((f) => quoted(f.id)).join(', ')}]`,
    `  y-axis "recipients" 0 --> ${niceMax(bars)}`,
    `  bar [${bars.join(', ')}]`,
    '```',
  ].join('\n');
}

/** Sends (bars) and conversions (line) per day. */
export function daysChart(days: DayCount[], title: string): string {
  return [
    '```mermaid',
    'xychart-beta',
    `  title ${quoted(title)}`,
    `  x-axis [${days.map((d) => quoted(d.day.slice(5))).join(', ')}]`,
    `  y-axis "per day" 0 --> ${niceMax(days.flatMap((d) => [d.sent, d.conversions]))}`,
    `  bar [${days.map((d) => d.sent).join(', ')}]`,
    `  line [${days.map((d) => d.conversions).join(', ')}]`,
    '```',
  ].join('\n');
}

/** One step's row of the funnel table, as text: the Markdown and the HTML page show the same cells. */
export function stepCells(f: FunnelStep): string[] {
  return [
    f.inDefinition ? f.id : `${f.id} (removed)`,
    count(f.sent),
    rateText(f.openRate),
    rateText(f.clickRate),
    percent(f.dropOff),
    count(f.expired),
    count(f.failed),
    count(f.exited),
    count(f.waiting),
  ];
}

function stepRow(f: FunnelStep): string {
  return `| ${stepCells(f).map(cell).join(' | ')} |`;
}

function scenarioSection(s: ScenarioFunnel): string[] {
  const title = s.name ? `${mdText(s.name)} (${mdCode(s.id)})` : mdCode(s.id);
  const reached = `reached by ${count(s.goalReached)} of them (${percent(s.conversionRate)})`;
  const goal = s.goal
    ? `goal (${mdText(s.goal)}) ${reached}; ${count(s.conversions)} goal(s) reached in the period`
    : 'no goal';
  const exits = s.exits.length ? `: ${s.exits.map((x) => `${mdText(x.reason)} ${count(x.count)}`).join(', ')}` : '';
  const out = [`### ${title}${s.status !== 'active' ? ` · ${s.status}` : ''}`, ''];
  const figures = [
    `Entered ${count(s.entered)}`,
    goal,
    `waiting now ${count(s.waiting)}`,
    `finished ${count(s.finished)}`,
  ];
  out.push(`${figures.join(' · ')} · left ${count(s.exited)}${exits}`);
  for (const line of holdoutSentences(s)) out.push('', mdText(line));
  if (!s.funnel.length) return [...out, '', 'No message steps.'];
  out.push('', funnelChart(s), '');
  out.push(
    '| step | sent | opened | clicked | drop-off | expired | failed | left here | waiting now |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const f of s.funnel) out.push(stepRow(f));
  const others = s.steps.filter((st) => st.type !== 'message' && st.inDefinition && (st.waiting || st.exited));
  const other = (st: StepReport) =>
    `${mdText(st.id)} (${mdText(st.type ?? '')}): waiting ${count(st.waiting)}, left ${count(st.exited)}`;
  if (others.length) out.push('', `Waiting or leaving at other steps: ${others.map(other).join('; ')}.`);
  const review = s.funnel.filter((f) => f.needsReview).map((f) => `${mdText(f.id)} ${count(f.needsReview)}`);
  if (review.length) {
    out.push('', `⚠️ Needs review: ${review.join(', ')} recipient(s) in batches LINE may or may not have accepted.`);
  }
  return out;
}

function periodSection(r: PeriodReport): string[] {
  const t = r.totals;
  const out = [`## ${r.period.label[0]!.toUpperCase()}${r.period.label.slice(1)}`, ''];
  const rate = t.entered ? ` (${percent(t.goalReached / t.entered)} of entered)` : '';
  const figures = [
    `Entered ${count(t.entered)}`,
    `sent ${count(t.sent)}`,
    `goal reached ${count(t.goalReached)}${rate}`,
  ];
  out.push(`${figures.join(' · ')} · goals reached in the period ${count(t.conversions)} · left ${count(t.exited)}`);
  if (!r.scenarios.length) return [...out, '', 'No scenario has run yet.'];
  for (const s of r.scenarios) out.push('', ...scenarioSection(s));
  return [...out, ...routesSection(r)];
}

/** The route table, when someone followed in the period. */
function routesSection(r: PeriodReport): string[] {
  if (!r.routes?.routes.length) return [];
  return [
    '',
    '### Follow routes compared',
    '',
    routeNote(r.routes.more),
    '',
    `| ${ROUTE_HEADERS.join(' | ')} |`,
    '|---|---:|---:|---:|---|',
    ...r.routes.routes.map((x) => `| ${routeCells(x).map(cell).join(' | ')} |`),
  ];
}

/** The whole report: each period, then the days of the longest one. */
export function reportMarkdown(reports: PeriodReport[], meta: ReportMeta): string {
  const out = ['# LINE step delivery: report', ''];
  out.push(`Made ${new Date(meta.now).toISOString()} · state: ${mdText(meta.store)}`);
  // Notes quote LINE's answers: plain sentences, escaped like any text from outside.
  for (const n of meta.notes) out.push('', mdText(n));
  for (const r of reports) out.push('', ...periodSection(r));
  const longest = [...reports].sort((a, b) => b.period.to - b.period.from - (a.period.to - a.period.from))[0];
  if (longest && longest.days.length) {
    out.push(
      '',
      `## Sends and goals reached per day (${longest.period.label})`,
      '',
      daysChart(longest.days, 'sent (bars) and goals reached (line) per day'),
    );
  }
  if (meta.forecast) out.push('', forecastMarkdown(meta.forecast));
  if (meta.storage) out.push('', '## Database', '', storageSentence(meta.storage));
  if (meta.clock) out.push('', clockMarkdown(meta.clock));
  out.push('', HOW_TO_READ);
  return `${out.join('\n')}\n`;
}

/** A few lines for the foot of a tick's summary: each scenario's funnel over the period. */
export function shortFunnelMarkdown(r: PeriodReport): string {
  const lines = [`### Funnels, ${r.period.label}`, ''];
  for (const s of r.scenarios) {
    if (!s.funnel.length) continue;
    const steps = s.funnel.map((f) => `${mdText(f.id)} ${count(f.sent)}`).join(' → ');
    lines.push(`- ${mdCode(s.id)}: entered ${count(s.entered)} → ${steps}; goal ${percent(s.conversionRate)}`);
  }
  return `${lines.join('\n')}\n`;
}

const HOW_TO_READ = `<details><summary>How to read this report</summary>

- **entered**: enrollments that started in the period. **goal reached**: of those, how many reached the
  scenario's goal within its window; the conversion rate is goal reached ÷ entered. **goals reached in the
  period** counts goals by the day they were reached, whoever entered when.
- **sent**: recipients of the step's LINE requests accepted in the period. **opened** / **clicked**: LINE's
  statistics for the step's aggregation unit (users who opened the message / opened a URL in it), divided by
  the recipients of the days LINE gave figures for; LINE hides counts under 20, publishes them with a delay,
  and a \\* marks a rate over part of the sends.
- **drop-off**: the share of the bar before (for the first step, of those who entered) that did not get this
  step. A branch splits users between steps, so compare steps of one arm.
- **expired**: steps skipped because they could no longer go out on time. **failed**: LINE refused the
  request, or the message could not be made. **left here**: enrollments that ended in the period while at this
  step (a purchase, an unfollow, an exit rule); the reasons are listed per scenario. **waiting now**:
  enrollments at this step at the time of the report.
- **holdout**: a scenario with a holdout group sends nothing to a fixed share of those who enter. Treated and held
  out count the users who entered in the period and reached a message step; converted means they reached the goal.
  The lift is the treated rate minus the held-out rate, with a 95% interval (two-proportion normal approximation),
  given once each group has 30 users, 5 who converted and 5 who did not. See docs/measuring.md.
</details>`;
