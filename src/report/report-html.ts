// The report as one self-contained HTML page: no script, no font, no request of any kind
// (an artifact opened from disk or served by GitHub Pages looks the same), charts drawn
// here as inline SVG. Per period and scenario: the funnel (a bar per message step), opens
// and clicks per step; then sends and goals reached per day. Counts, ids and the team's
// own scenario names only: never a user id, a member id or a message text.
import type { DayCount } from './report-data.js';
import type { FunnelStep, PeriodReport, ScenarioFunnel } from './period-report.js';
import { count, percent, rateText, type ReportMeta } from './report-markdown.js';

const GREEN = '#06c755';
const BLUE = '#2f6fd6';
const ORANGE = '#e8833a';
const GREY = '#8a94a6';

/** Text and attribute values: every markup character escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;

interface Bar {
  label: string;
  value: number;
  /** A tooltip (SVG title). */
  title: string;
}

const PAD = { top: 24, right: 12, bottom: 44, left: 44 };

function axisMax(values: number[]): number {
  const max = Math.max(1, ...values);
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

/** Grid lines and their labels at 0, ½ and the top. */
function grid(max: number, width: number, height: number): string {
  const lines: string[] = [];
  for (const share of [0, 0.5, 1]) {
    const y = PAD.top + (height - PAD.top - PAD.bottom) * (1 - share);
    lines.push(`<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${y}" y2="${y}" stroke="#e3e7ee"/>`);
    lines.push(`<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${e(count(Math.round(max * share)))}</text>`);
  }
  return lines.join('');
}

/** Bars side by side, one series or several (grouped); each bar carries class "bar" and its series. */
function barChart(options: { chart: string; scenario: string; groups: string[]; series: { name: string; color: string; bars: Bar[] }[]; label: string }): string {
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
      parts.push(
        `<rect class="bar" data-series="${e(s.name)}" data-step="${e(group)}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${Math.max(h, 0).toFixed(1)}" fill="${s.color}" rx="2"><title>${e(bar.title)}</title></rect>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value">${e(bar.label)}</text>`,
      );
    });
    parts.push(`<text x="${(PAD.left + slot * i + slot / 2).toFixed(1)}" y="${height - PAD.bottom + 16}" text-anchor="middle" class="label">${e(group)}</text>`);
  });
  return `<svg class="chart" role="img" aria-label="${e(options.label)}" data-chart="${e(options.chart)}" data-scenario="${e(options.scenario)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${e(options.label)}</title>${parts.join('')}</svg>`;
}

function legend(items: [string, string][]): string {
  return `<p class="legend">${items.map(([name, color]) => `<span><i style="background:${color}"></i>${e(name)}</span>`).join('')}</p>`;
}

function funnelSvg(s: ScenarioFunnel): string {
  return barChart({
    chart: 'funnel',
    scenario: s.id,
    label: `${s.id}: sent per step`,
    groups: s.funnel.map((f) => f.id),
    series: [{
      name: 'sent',
      color: GREEN,
      bars: s.funnel.map((f) => ({ label: count(f.sent), value: f.sent, title: `${f.id}: sent ${count(f.sent)}; drop-off ${percent(f.dropOff)}` })),
    }],
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
      { name: 'sent', color: GREEN, bars: s.funnel.map((f) => ({ label: count(f.sent), value: f.sent, title: `${f.id}: sent ${count(f.sent)}` })) },
      { name: 'opened', color: BLUE, bars: s.funnel.map((f) => ({ label: rateText(f.openRate), value: estimate(f, f.openRate.value), title: `${f.id}: opened ${rateText(f.openRate)}${f.openRate.note ? ` (${f.openRate.note})` : ''}` })) },
      { name: 'clicked', color: ORANGE, bars: s.funnel.map((f) => ({ label: rateText(f.clickRate), value: estimate(f, f.clickRate.value), title: `${f.id}: clicked ${rateText(f.clickRate)}${f.clickRate.note ? ` (${f.clickRate.note})` : ''}` })) },
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
    parts.push(`<text x="${right + 6}" y="${at + 4}" class="tick goals">${e(count(Math.round(maxGoals * share)))}</text>`);
  }
  const points: string[] = [];
  days.forEach((d, i) => {
    const x = PAD.left + slot * i;
    parts.push(`<rect class="day" x="${(x + 2).toFixed(1)}" y="${y(d.sent).toFixed(1)}" width="${(slot - 4).toFixed(1)}" height="${(PAD.top + inner - y(d.sent)).toFixed(1)}" fill="${GREEN}" rx="2"><title>${e(`${d.day}: sent ${count(d.sent)}, goals reached ${count(d.conversions)}`)}</title></rect>`);
    points.push(`${(x + slot / 2).toFixed(1)},${yGoals(d.conversions).toFixed(1)}`);
    if (i % Math.ceil(days.length / 10) === 0) parts.push(`<text x="${(x + slot / 2).toFixed(1)}" y="${height - PAD.bottom + 16}" text-anchor="middle" class="label">${e(d.day.slice(5))}</text>`);
  });
  parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${ORANGE}" stroke-width="2.5"/>`);
  for (const p of points) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${ORANGE}"/>`);
  return `<svg class="chart" role="img" aria-label="${e(label)}" data-chart="days" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${e(label)}</title>${parts.join('')}</svg>`;
}

function stepTable(s: ScenarioFunnel): string {
  const head = ['step', 'sent', 'opened', 'clicked', 'drop-off', 'expired', 'failed', 'left here', 'waiting now'];
  const rows = s.funnel.map((f) => {
    const cells = [f.inDefinition ? f.id : `${f.id} (removed)`, count(f.sent), rateText(f.openRate), rateText(f.clickRate), percent(f.dropOff), count(f.expired), count(f.failed), count(f.exited), count(f.waiting)];
    return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${e(c)}</th>` : `<td>${e(c)}</td>`)).join('')}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function scenarioCard(s: ScenarioFunnel): string {
  const figures: [string, string][] = [
    ['entered', count(s.entered)],
    [s.goal ? `goal (${s.goal})` : 'goal', s.goal ? `${count(s.goalReached)} · ${percent(s.conversionRate)}` : '—'],
    ['waiting now', count(s.waiting)],
    ['finished', count(s.finished)],
    ['left', count(s.exited)],
  ];
  const exits = s.exits.length ? `<p class="exits">Left, by reason: ${s.exits.map((x) => `<span>${e(x.reason)} <b>${e(count(x.count))}</b></span>`).join(' ')}</p>` : '';
  const body = s.funnel.length
    ? `<div class="charts"><figure><figcaption>Funnel: sent per step</figcaption>${funnelSvg(s)}</figure><figure><figcaption>Opened and clicked per step (LINE's statistics)</figcaption>${engagementSvg(s)}${legend([['sent', GREEN], ['opened', BLUE], ['clicked', ORANGE]])}</figure></div>${stepTable(s)}`
    : '<p>No message steps.</p>';
  return `<section class="scenario" data-scenario="${e(s.id)}"><h3>${e(s.name ?? s.id)} <code>${e(s.id)}</code>${s.status !== 'active' ? ` <em>${e(s.status)}</em>` : ''}</h3>
<dl class="figures">${figures.map(([k, v]) => `<div><dt>${e(k)}</dt><dd>${e(v)}</dd></div>`).join('')}</dl>${exits}${body}</section>`;
}

function periodSection(r: PeriodReport, withDays: boolean): string {
  const t = r.totals;
  const totals: [string, string][] = [
    ['entered', count(t.entered)],
    ['sent', count(t.sent)],
    ['goal reached', `${count(t.goalReached)}${t.entered ? ` · ${percent(t.goalReached / t.entered)}` : ''}`],
    ['goals reached in the period', count(t.conversions)],
    ['left', count(t.exited)],
  ];
  const days = withDays && r.days.length
    ? `<figure class="wide"><figcaption>Sent per day (bars, left scale) and goals reached (line, right scale)</figcaption>${daysSvg(r.days, `sent and goals reached per day, ${r.period.label}`)}${legend([['sent', GREEN], ['goals reached', ORANGE]])}</figure>`
    : '';
  const scenarios = r.scenarios.length ? r.scenarios.map(scenarioCard).join('\n') : '<p>No scenario has run yet.</p>';
  return `<section class="period"><h2>${e(r.period.label)}</h2><dl class="figures totals">${totals.map(([k, v]) => `<div><dt>${e(k)}</dt><dd>${e(v)}</dd></div>`).join('')}</dl>${days}\n${scenarios}</section>`;
}

const CSS = `
:root{color-scheme:light;--ink:#1d2533;--muted:${GREY};--line:#e3e7ee}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif;color:var(--ink);background:#f6f8fb}
header{background:${GREEN};color:#fff;padding:20px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.9}
main{max-width:1180px;margin:0 auto;padding:8px 20px 40px}
.notes p{background:#fff6e5;border:1px solid #f3d19c;border-radius:8px;padding:8px 12px}
section.period>h2{margin:28px 0 8px;font-size:20px;text-transform:capitalize}
.scenario{background:#fff;border:1px solid var(--line);border-radius:12px;padding:16px 20px;margin:16px 0}
.scenario h3{margin:0 0 8px;font-size:17px}.scenario h3 code{font-size:13px;color:var(--muted);font-weight:400}
.figures{display:flex;flex-wrap:wrap;gap:8px 24px;margin:0 0 8px}.figures div{min-width:110px}
.figures dt{color:var(--muted);font-size:12px}.figures dd{margin:0;font-size:18px;font-weight:600}
.totals{background:#fff;border:1px solid var(--line);border-radius:12px;padding:12px 20px}
.exits span{display:inline-block;background:#f0f2f6;border-radius:10px;padding:1px 8px;margin:2px 4px 2px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:8px 0;overflow-x:auto}figure.wide{background:#fff;border:1px solid var(--line);border-radius:12px;padding:12px 16px}
figcaption{color:var(--muted);font-size:12px;margin-bottom:4px}
svg .tick,svg .value,svg .label{font:11px system-ui,sans-serif;fill:#4a5568}svg .value{font-weight:600;font-size:10px}
svg .tick.goals{fill:${ORANGE}}
.legend span{margin-right:14px;font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;margin-top:8px;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
thead th{color:var(--muted);font-weight:500;font-size:12px}th[scope=row],thead th:first-child{text-align:left}
details{margin-top:28px;color:#4a5568}footer{color:var(--muted);font-size:12px;margin-top:24px}
`;

const HOW_TO_READ = `<details><summary>How to read this report</summary><ul>
<li><b>entered</b>: enrollments that started in the period; <b>goal reached</b>: of those, how many reached the scenario's goal within its window (the conversion rate is goal reached ÷ entered); <b>goals reached in the period</b> counts goals by the day they were reached.</li>
<li><b>sent</b>: recipients of LINE requests accepted in the period. <b>opened</b> / <b>clicked</b>: LINE's statistics for the step's aggregation unit divided by the recipients of the days LINE gave figures for (LINE hides counts under 20 and publishes them with a delay; * marks a rate over part of the sends). In the chart, opened and clicked are those rates applied to what was sent.</li>
<li><b>drop-off</b>: the share of the bar before (for the first step, of those who entered) that did not get this step; a branch splits users between steps, so compare the steps of one arm.</li>
<li><b>expired</b>: skipped because it could not go out on time; <b>failed</b>: LINE refused it, or the message could not be made; <b>left here</b>: enrollments that ended in the period at this step; <b>waiting now</b>: enrollments at this step when the report was made.</li>
</ul></details>`;

/** The page. The longest period also gets the chart of sends and goals reached per day. */
export function reportHtml(reports: PeriodReport[], meta: ReportMeta): string {
  const longest = [...reports].sort((a, b) => b.period.to - b.period.from - (a.period.to - a.period.from))[0];
  const notes = meta.notes.length ? `<div class="notes">${meta.notes.map((n) => `<p>${e(n)}</p>`).join('')}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>LINE step delivery: report</title><style>${CSS}</style></head>
<body><header><h1>LINE step delivery: report</h1><p>Made ${e(new Date(meta.now).toISOString())} · state: ${e(meta.store)}</p></header>
<main>${notes}
${reports.map((r) => periodSection(r, r === longest)).join('\n')}
${HOW_TO_READ}
<footer>Counts only: this page holds no user id, member id or message text.</footer></main></body></html>
`;
}
