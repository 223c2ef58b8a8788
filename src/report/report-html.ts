// The report as one self-contained HTML page: no script, no font, no request of any kind
// (an artifact opened from disk or served by GitHub Pages looks the same), charts drawn
// here as inline SVG. Per period and scenario: the funnel (a bar per message step), opens
// and clicks per step; then sends and goals reached per day. Counts, ids and the team's
// own scenario names only: never a user id, a member id or a message text.
import type { DayCount } from '../store/report-data.js';
import { REPORT_ZONE, type FunnelStep, type PeriodReport, type ScenarioFunnel } from './period-report.js';
import { formatLocal } from '../time/zoned.js';
import { count, percent, rateText, stepCells, type ReportMeta } from './report-markdown.js';
import { holdoutSentences } from './holdout-text.js';
import { ROUTE_HEADERS, routeCells, routeNote } from './routes-text.js';
import { clockHtml } from './lateness.js';
import { forecastHtml } from './forecast-markdown.js';
import { storageSentence } from './storage.js';

const GREEN = '#06c755';
const BLUE = '#2f6fd6';
const ORANGE = '#e8833a';
const GREY = '#8a94a6';

/** Text and attribute values: every markup character escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;

type Attributes = Record<string, string | number>;
const fixed = (n: number) => n.toFixed(1);

/** An element: attribute values escaped; the content is markup already (escape text with e()). */
function el(name: string, attributes: Attributes, content?: string): string {
  const attrs = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${e(String(v))}"`)
    .join('');
  return content === undefined ? `<${name}${attrs}/>` : `<${name}${attrs}>${content}</${name}>`;
}

/** An inline SVG chart with a title (a tooltip and the accessible name). */
function svg(attributes: Attributes, width: number, height: number, label: string, parts: string[]): string {
  const size = { viewBox: `0 0 ${width} ${height}`, width, height, xmlns: 'http://www.w3.org/2000/svg' };
  const all = { class: 'chart', role: 'img', 'aria-label': label, ...attributes, ...size };
  return el('svg', all, el('title', {}, e(label)) + parts.join(''));
}

interface Bar {
  label: string;
  value: number;
  /** A tooltip (SVG title). */
  title: string;
}

const PAD = { top: 24, right: 12, bottom: 44, left: 44 };

/** Half a scale's height, as a multiple of a power of ten: the ticks read 0, half, top. */
const HALVES = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8, 10];

/**
 * The top of a scale whose ticks (0, half, top) are distinct whole numbers and hold the
 * largest value closely (1 → 0, 1, 2; 7 → 0, 4, 8; 4,163 → 0, 2,500, 5,000), never
 * "0, 1, 1" from rounding a half.
 */
export function axisMax(values: number[]): number {
  const max = Math.max(1, ...values);
  const power = 10 ** Math.floor(Math.log10(max / 2));
  const half = HALVES.map((m) => m * power).find((h) => Number.isInteger(h) && h >= 1 && 2 * h >= max)!;
  return 2 * half;
}

/** Grid lines and their labels at 0, ½ and the top. */
function grid(max: number, width: number, height: number): string {
  const lines: string[] = [];
  for (const share of [0, 0.5, 1]) {
    const y = PAD.top + (height - PAD.top - PAD.bottom) * (1 - share);
    lines.push(el('line', { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y, stroke: '#e3e7ee' }));
    const tick = { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' };
    lines.push(el('text', tick, e(count(max * share))));
  }
  return lines.join('');
}

/** Bars side by side, one series or several (grouped); each bar carries class "bar" and its series. */
function barChart(options: {
  chart: string;
  scenario: string;
  groups: string[];
  series: { name: string; color: string; bars: Bar[] }[];
  label: string;
}): string {
  // Wide enough for the longest step id under its group, and for a value label over each bar.
  const longest = Math.max(0, ...options.groups.map((g) => g.length));
  const barWidth = options.series.length > 1 ? 42 : 56;
  const slot = Math.max(barWidth * options.series.length + 20, longest * 6.6 + 14);
  const width = Math.max(360, PAD.left + PAD.right + slot * options.groups.length);
  const height = 240;
  const inner = height - PAD.top - PAD.bottom;
  const max = axisMax(options.series.flatMap((s) => s.bars.map((b) => b.value)));
  const parts = [grid(max, width, height)];
  options.groups.forEach((group, i) => {
    const x0 = PAD.left + slot * i + (slot - barWidth * options.series.length) / 2;
    options.series.forEach((s, k) => {
      const bar = s.bars[i]!;
      const h = (bar.value / max) * inner;
      const x = x0 + barWidth * k;
      const y = PAD.top + inner - h;
      const box = { x: fixed(x), y: fixed(y), width: fixed(barWidth - 2), height: fixed(Math.max(h, 0)) };
      const rect = { class: 'bar', 'data-series': s.name, 'data-step': group, ...box, fill: s.color, rx: 2 };
      parts.push(el('rect', rect, el('title', {}, e(bar.title))));
      const value = { x: fixed(x + barWidth / 2 - 1), y: fixed(y - 4), 'text-anchor': 'middle', class: 'value' };
      parts.push(el('text', value, e(bar.label)));
    });
    const under = { x: fixed(PAD.left + slot * i + slot / 2), y: height - PAD.bottom + 16, 'text-anchor': 'middle' };
    parts.push(el('text', { ...under, class: 'label' }, e(group)));
  });
  return svg({ 'data-chart': options.chart, 'data-scenario': options.scenario }, width, height, options.label, parts);
}

function legend(items: [string, string][]): string {
  const item = ([name, color]: [string, string]) =>
    el('span', {}, el('i', { style: `background:${color}` }, '') + e(name));
  return el('p', { class: 'legend' }, items.map(item).join(''));
}

function funnelSvg(s: ScenarioFunnel): string {
  return barChart({
    chart: 'funnel',
    scenario: s.id,
    label: `${s.id}: sent per step`,
    groups: s.funnel.map((f) => f.id),
    series: [
      {
        name: 'sent',
        color: GREEN,
        bars: s.funnel.map((f) => ({
          label: count(f.sent),
          value: f.sent,
          title: `${f.id}: sent ${count(f.sent)}; drop-off ${percent(f.dropOff)}`,
        })),
      },
    ],
  });
}

/** Sent, opened and clicked per step: opened and clicked are LINE's rates applied to what was sent. */
function engagementSvg(s: ScenarioFunnel): string {
  const estimate = (f: FunnelStep, share: number | null) => (share === null ? 0 : Math.round(f.sent * share));
  return barChart({
    chart: 'engagement',
    scenario: s.id,
    label: `${s.id}: sent, opened and clicked per step`,
    groups: s.funnel.map((f) => f.id),
    series: [
      {
        name: 'sent',
        color: GREEN,
        bars: s.funnel.map((f) => ({ label: count(f.sent), value: f.sent, title: `${f.id}: sent ${count(f.sent)}` })),
      },
      {
        name: 'opened',
        color: BLUE,
        bars: s.funnel.map((f) => ({
          label: rateText(f.openRate),
          value: estimate(f, f.openRate.value),
          title: `${f.id}: opened ${rateText(f.openRate)}${f.openRate.note ? ` (${f.openRate.note})` : ''}`,
        })),
      },
      {
        name: 'clicked',
        color: ORANGE,
        bars: s.funnel.map((f) => ({
          label: rateText(f.clickRate),
          value: estimate(f, f.clickRate.value),
          title: `${f.id}: clicked ${rateText(f.clickRate)}${f.clickRate.note ? ` (${f.clickRate.note})` : ''}`,
        })),
      },
    ],
  });
}

/** Sends per day as bars (left axis), goals reached as a line (right axis, its own scale). */
export function daysSvg(days: DayCount[], label: string): string {
  const slot = Math.max(14, Math.min(40, 720 / Math.max(1, days.length)));
  const width = Math.max(360, PAD.left + PAD.right + 36 + slot * days.length);
  const height = 240;
  const inner = height - PAD.top - PAD.bottom;
  const max = axisMax(days.map((d) => d.sent));
  const maxGoals = axisMax(days.map((d) => d.conversions));
  const y = (v: number) => PAD.top + inner - (v / max) * inner;
  const yGoals = (v: number) => PAD.top + inner - (v / maxGoals) * inner;
  const right = width - PAD.right - 36;
  const parts = [grid(max, right + PAD.right, height)];
  for (const share of [0, 0.5, 1]) {
    const at = PAD.top + inner * (1 - share);
    parts.push(el('text', { x: right + 6, y: at + 4, class: 'tick goals' }, e(count(maxGoals * share))));
  }
  const points: [number, number][] = [];
  days.forEach((d, i) => {
    const x = PAD.left + slot * i;
    const box = {
      x: fixed(x + 2),
      y: fixed(y(d.sent)),
      width: fixed(slot - 4),
      height: fixed(PAD.top + inner - y(d.sent)),
    };
    const title = `${d.day}: sent ${count(d.sent)}, goals reached ${count(d.conversions)}`;
    parts.push(el('rect', { class: 'day', ...box, fill: GREEN, rx: 2 }, el('title', {}, e(title))));
    points.push([x + slot / 2, yGoals(d.conversions)]);
    if (i % Math.ceil(days.length / 10) === 0) {
      const under = { x: fixed(x + slot / 2), y: height - PAD.bottom + 16, 'text-anchor': 'middle', class: 'label' };
      parts.push(el('text', under, e(d.day.slice(5))));
    }
  });
  const line = points.map(([x, y]) => `${fixed(x)},${fixed(y)}`).join(' ');
  parts.push(el('polyline', { points: line, fill: 'none', stroke: ORANGE, 'stroke-width': 2.5 }));
  for (const [x, y] of points) parts.push(el('circle', { cx: fixed(x), cy: fixed(y), r: 3, fill: ORANGE }));
  return svg({ 'data-chart': 'days' }, width, height, label, parts);
}

function stepTable(s: ScenarioFunnel): string {
  const head = ['step', 'sent', 'opened', 'clicked', 'drop-off', 'expired', 'failed', 'left here', 'waiting now'];
  const rows = s.funnel.map((f) => {
    const cells = stepCells(f);
    return el(
      'tr',
      {},
      cells.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, e(c)) : el('td', {}, e(c)))).join(''),
    );
  });
  const thead = el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, e(h))).join('')));
  return el('table', {}, thead + el('tbody', {}, rows.join('')));
}

/** The route table (docs/measuring.md), when someone followed in the period. */
function routesTable(r: PeriodReport): string {
  if (!r.routes?.routes.length) return '';
  const rows = r.routes.routes.map((x) =>
    el(
      'tr',
      {},
      routeCells(x)
        .map((c, i) => (i === 0 ? el('th', { scope: 'row' }, e(c)) : el('td', {}, e(c))))
        .join(''),
    ),
  );
  const thead = el('thead', {}, el('tr', {}, ROUTE_HEADERS.map((h) => el('th', { scope: 'col' }, e(h))).join('')));
  return el(
    'section',
    { class: 'routes' },
    el('h3', {}, 'Follow routes compared') +
      el('p', {}, e(routeNote(r.routes.more))) +
      el('table', {}, thead + el('tbody', {}, rows.join(''))),
  );
}

/** Name and value pairs as a row of figures. */
function figures(pairs: [string, string][], extra = ''): string {
  const items = pairs.map(([k, v]) => el('div', {}, el('dt', {}, e(k)) + el('dd', {}, e(v))));
  return el('dl', { class: `figures${extra}` }, items.join(''));
}

const figure = (caption: string, content: string) => el('figure', {}, el('figcaption', {}, e(caption)) + content);

/** Nobody entered, nothing was sent, nobody reached the goal or left in the period. */
const quiet = (s: ScenarioFunnel) =>
  s.entered === 0 && s.goalReached === 0 && s.exited === 0 && s.funnel.every((f) => f.sent === 0);

/** A scenario with nothing in the period: one line, not two empty charts. */
function quietLine(s: ScenarioFunnel): string {
  const status = s.status !== 'active' ? ` (${e(s.status)})` : '';
  const waiting = s.waiting ? `; ${e(count(s.waiting))} waiting now` : '';
  const text = `${el('b', {}, e(s.name ?? s.id))} ${el('code', {}, e(s.id))}${status}: nobody entered and nothing was sent in this period${waiting}.`;
  return el('p', { class: 'scenario quiet', 'data-scenario': s.id }, text);
}

function scenarioCard(s: ScenarioFunnel): string {
  if (quiet(s)) return quietLine(s);
  const pairs: [string, string][] = [
    ['entered', count(s.entered)],
    [s.goal ? `goal (${s.goal})` : 'goal', s.goal ? `${count(s.goalReached)} · ${percent(s.conversionRate)}` : '—'],
    ['waiting now', count(s.waiting)],
    ['finished', count(s.finished)],
    ['left', count(s.exited)],
  ];
  const reasons = s.exits.map((x) => el('span', {}, `${e(x.reason)} ${el('b', {}, e(count(x.count)))}`));
  const exits = s.exits.length ? el('p', { class: 'exits' }, `Left, by reason: ${reasons.join(' ')}`) : '';
  const holdout = holdoutSentences(s)
    .map((line) => el('p', { class: 'holdout' }, e(line)))
    .join('');
  const engagementLegend = legend([
    ['sent', GREEN],
    ['opened', BLUE],
    ['clicked', ORANGE],
  ]);
  const charts = el(
    'div',
    { class: 'charts' },
    figure('Funnel: sent per step', funnelSvg(s)) +
      figure("Opened and clicked per step (LINE's statistics)", engagementSvg(s) + engagementLegend),
  );
  const body = s.funnel.length ? charts + stepTable(s) : el('p', {}, 'No message steps.');
  const status = s.status !== 'active' ? ` ${el('em', {}, e(s.status))}` : '';
  const title = el('h3', {}, `${e(s.name ?? s.id)} ${el('code', {}, e(s.id))}${status}`);
  return el(
    'section',
    { class: 'scenario', 'data-scenario': s.id },
    `${title}\n${figures(pairs)}${exits}${holdout}${body}`,
  );
}

/** An instant in the report's zone: "2026-11-25 09:00". */
const local = (ms: number) => formatLocal(ms, REPORT_ZONE);

/** The period's bounds in the report's zone. */
const periodSpan = (r: PeriodReport) => `${local(r.period.from)} → ${local(r.period.to)} (${REPORT_ZONE})`;

function periodSection(r: PeriodReport, withDays: boolean): string {
  const t = r.totals;
  const share = t.entered ? ` · ${percent(t.goalReached / t.entered)}` : '';
  const totals: [string, string][] = [
    ['entered', count(t.entered)],
    ['sent', count(t.sent)],
    ['goal reached', `${count(t.goalReached)}${share}`],
    ['goals reached in the period', count(t.conversions)],
    ['left', count(t.exited)],
  ];
  const chart = () =>
    daysSvg(r.days, `sent and goals reached per day, ${r.period.label}`) +
    legend([
      ['sent', GREEN],
      ['goals reached', ORANGE],
    ]);
  const caption = 'Sent per day (bars, left scale) and goals reached (line, right scale)';
  const days =
    withDays && r.days.length ? el('figure', { class: 'wide' }, el('figcaption', {}, e(caption)) + chart()) : '';
  const scenarios = r.scenarios.length
    ? r.scenarios.map(scenarioCard).join('\n')
    : el('p', {}, 'No scenario has run yet.');
  return el(
    'section',
    { class: 'period' },
    `${el('h2', {}, e(r.period.label))}${el('p', { class: 'span' }, e(periodSpan(r)))}${figures(totals, ' totals')}${days}\n${scenarios}${routesTable(r)}`,
  );
}

const CSS = `
:root{color-scheme:light;--ink:#1d2533;--muted:${GREY};--line:#e3e7ee}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#f6f8fb;
  font:14px/1.5 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif}
header{background:${GREEN};color:#fff;padding:20px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.9}
main{max-width:1180px;margin:0 auto;padding:8px 20px 40px}
.notes p{background:#fff6e5;border:1px solid #f3d19c;border-radius:8px;padding:8px 12px}
section.period>h2{margin:28px 0 8px;font-size:20px;text-transform:capitalize}
.scenario{background:#fff;border:1px solid var(--line);border-radius:12px;padding:16px 20px;margin:16px 0}
.scenario h3{margin:0 0 8px;font-size:17px}
p.scenario.quiet{padding:10px 20px;margin:8px 0;color:#4a5568}
p.scenario.quiet code{color:var(--muted)}
section.period>p.span{margin:0 0 8px;color:var(--muted)}
.scenario h3 code{font-size:13px;color:var(--muted);font-weight:400}
.figures{display:flex;flex-wrap:wrap;gap:8px 24px;margin:0 0 8px}
.figures div{min-width:110px}
.figures dt{color:var(--muted);font-size:12px}
.figures dd{margin:0;font-size:18px;font-weight:600}
.totals{background:#fff;border:1px solid var(--line);border-radius:12px;padding:12px 20px}
.exits span{display:inline-block;background:#f0f2f6;border-radius:10px;padding:1px 8px;margin:2px 4px 2px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:8px 0;overflow-x:auto}
figure.wide{background:#fff;border:1px solid var(--line);border-radius:12px;padding:12px 16px}
figcaption{color:var(--muted);font-size:12px;margin-bottom:4px}
svg .tick,svg .value,svg .label{font:11px system-ui,sans-serif;fill:#4a5568}
svg .value{font-weight:600;font-size:10px}
svg .tick.goals{fill:${ORANGE}}
.legend span{margin-right:14px;font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;margin-top:8px;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
thead th{color:var(--muted);font-weight:500;font-size:12px}
th[scope=row],thead th:first-child{text-align:left}
details{margin-top:28px;color:#4a5568}
footer{color:var(--muted);font-size:12px;margin-top:24px}
`;

const HOW_TO_READ = `<details><summary>How to read this report</summary><ul>
<li><b>entered</b>: enrollments that started in the period; <b>goal reached</b>: of those, how many reached
the scenario's goal within its window (the conversion rate is goal reached ÷ entered); <b>goals reached in the
period</b> counts goals by the day they were reached.</li>
<li><b>sent</b>: recipients of LINE requests accepted in the period. <b>opened</b> / <b>clicked</b>: LINE's
statistics for the step's aggregation unit divided by the recipients of the days LINE gave figures for (LINE
hides counts under 20 and publishes them with a delay; * marks a rate over part of the sends). In the chart,
opened and clicked are those rates applied to what was sent.</li>
<li><b>drop-off</b>: the share of the bar before (for the first step, of those who entered) that did not get
this step; a branch splits users between steps, so compare the steps of one arm.</li>
<li><b>expired</b>: skipped because it could not go out on time; <b>failed</b>: LINE refused it, or the
message could not be made; <b>left here</b>: enrollments that ended in the period at this step; <b>waiting
now</b>: enrollments at this step when the report was made.</li>
</ul></details>`;

/** The page. The longest period also gets the chart of sends and goals reached per day. */
export function reportHtml(reports: PeriodReport[], meta: ReportMeta): string {
  const longest = [...reports].sort((a, b) => b.period.to - b.period.from - (a.period.to - a.period.from))[0];
  const notes = meta.notes.length ? `<div class="notes">${meta.notes.map((n) => `<p>${e(n)}</p>`).join('')}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>LINE step delivery: report</title><style>${CSS}</style></head>
<body><header><h1>LINE step delivery: report</h1>
<p>Made ${e(local(meta.now))} (${e(REPORT_ZONE)}) · state: ${e(meta.store)}</p></header>
<main>${notes}
${reports.map((r) => periodSection(r, r === longest)).join('\n')}
${meta.forecast ? forecastHtml(meta.forecast) : ''}${meta.storage ? `<section class="storage"><h2>Database</h2><p>${e(storageSentence(meta.storage))}</p></section>` : ''}
${meta.clock ? clockHtml(meta.clock) : ''}
${HOW_TO_READ}
<footer>Counts only: this page holds no user id, member id or message text.</footer></main></body></html>
`;
}
