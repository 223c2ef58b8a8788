// The forecast as Markdown (the CLI, the job summary, the report, the PR preview) and as
// an HTML section of the report page. Scenario ids, names and counts only.
import type { Forecast, ForecastChange } from './forecast.js';
import { mdText } from '../contract/markdown-text.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');
/** A table cell: nothing from an id breaks the table (src/contract/markdown-text.ts). */
const cell = mdText;

/** The quota line: this month's use, what the next 30 days need, and whether it fits. */
export function quotaSentence(f: Forecast): string {
  const q = f.quota;
  if (!q) return 'LINE quota: not asked (no channel access token given).';
  if ('error' in q) return `LINE quota: could not be read (${q.error}).`;
  if (q.limit === null)
    return `LINE quota: no monthly limit (${n(q.used)} counted this month); the next ${f.days} days: ${n(f.total)}.`;
  const left = q.limit - q.used;
  const monthly = q.limit > 0 ? ` (${((f.total / q.limit) * 100).toFixed(0)}% of a month's ${n(q.limit)})` : '';
  const verdict =
    f.total > q.limit
      ? `⚠️ more than a month's quota: upgrade the plan in LINE Official Account Manager, or send less (replies are free: "reply": true on a welcome)`
      : f.total > left
        ? `⚠️ more than the ${n(left)} left this month: some will wait for next month's quota`
        : `within the ${n(left)} left this month`;
  return `LINE quota: ${n(q.used)} of ${n(q.limit)} counted this month; the next ${f.days} days: ${n(f.total)}${monthly}, ${verdict}.`;
}

/** The forecast table: one row per scenario, the messages LINE will count in the next 30 days. */
export function forecastMarkdown(
  f: Forecast,
  heading = '## Forecast: messages LINE will count in the next 30 days',
): string {
  const out = [
    heading,
    '',
    `From ${new Date(f.now).toISOString().slice(0, 10)}, next ${f.days} days: one message per recipient of each push or multicast (replies are free). ` +
      `From who is inside now, and from new entrants at the last ${f.days} days' rate. Branches take their default path, waits their timeout.`,
    '',
    '| scenario | inside now | to them | entries a day | to new entrants | next 30 days |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const s of f.scenarios) {
    const state = s.status === 'active' ? '' : ` (${s.status}: nothing sent)`;
    out.push(
      `| ${cell(s.id)}${state} | ${n(s.inside)} | ${n(s.fromInside)} | ${s.entriesPerDay.toFixed(1)} | ${n(s.fromNew)} | ${n(s.total)} |`,
    );
  }
  out.push(`| **all scenarios** | | | | | **${n(f.total)}** |`, '', quotaSentence(f), '');
  return out.join('\n');
}

/** What a pull request's change adds or removes, against the base's definitions, over the same users. */
export function forecastChangeMarkdown(changes: ForecastChange[], days: number): string {
  const changed = changes.filter((c) => c.change !== 0);
  const total = changes.reduce((s, c) => s + c.change, 0);
  const sign = (x: number) => (x > 0 ? `+${n(x)}` : x < 0 ? `−${n(-x)}` : '0');
  if (!changed.length)
    return `### Messages in the next ${days} days\n\nThis change does not change the messages LINE will count in the next ${days} days.\n`;
  const out = [
    `### Messages in the next ${days} days: ${sign(total)} with this change`,
    '',
    `What LINE will count in the next ${days} days with the base's definitions and with this change's, for the same users inside now and the same entry rate.`,
    '',
    '| scenario | before | after | change |',
    '|---|---:|---:|---:|',
    ...changed.map((c) => `| ${cell(c.id)} | ${n(c.base)} | ${n(c.head)} | ${sign(c.change)} |`),
    '',
  ];
  return out.join('\n');
}

const esc = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The report page's section. */
export function forecastHtml(f: Forecast): string {
  const rows = f.scenarios
    .map(
      (s) =>
        `<tr><td>${esc(s.id)}${s.status === 'active' ? '' : ` (${s.status})`}</td><td>${n(s.inside)}</td><td>${n(s.fromInside)}</td>` +
        `<td>${s.entriesPerDay.toFixed(1)}</td><td>${n(s.fromNew)}</td><td>${n(s.total)}</td></tr>`,
    )
    .join('');
  return (
    `<section class="forecast"><h2>Forecast: messages LINE will count in the next ${f.days} days</h2>` +
    `<table><thead><tr><th>scenario</th><th>inside now</th><th>to them</th><th>entries a day</th><th>to new entrants</th><th>next ${f.days} days</th></tr></thead>` +
    `<tbody>${rows}<tr><th>all scenarios</th><td></td><td></td><td></td><td></td><th>${n(f.total)}</th></tr></tbody></table>` +
    `<p>${esc(quotaSentence(f))}</p></section>`
  );
}
