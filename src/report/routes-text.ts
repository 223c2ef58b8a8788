// The route table of the report (docs/measuring.md): per follow route, friends added in the
// period, blocked within 7 and 30 days of the follow, and per scenario how many entered and
// reached the goal. The same cells in the Markdown report and on the HTML page; counts,
// route names and scenario ids only.
import type { RouteReport } from '../store/report-data.js';

export const ROUTE_HEADERS = [
  'route',
  'friends added',
  'blocked ≤ 7 days',
  'blocked ≤ 30 days',
  'entered → goal, per scenario',
];

const n = (x: number): string => x.toLocaleString('en');
const share = (part: number, whole: number): string => (whole ? ` (${((part / whole) * 100).toFixed(1)}%)` : '');

export function routeCells(r: RouteReport): string[] {
  const scenarios = r.scenarios.map(
    (s) => `${s.scenarioId} ${n(s.entered)} → ${n(s.converted)}${share(s.converted, s.entered)}`,
  );
  return [
    r.route ?? '(no route)',
    n(r.added),
    `${n(r.blocked7d)}${share(r.blocked7d, r.added)}`,
    `${n(r.blocked30d)}${share(r.blocked30d, r.added)}`,
    scenarios.length ? scenarios.join('; ') : '—',
  ];
}

/** What the table leaves out or cannot know yet, as one sentence. */
export function routeNote(more: boolean): string {
  const cut = more ? ' Only the 50 routes with the most friends are shown.' : '';
  return `Friends added in the period by the route of their follow; blocked within 7 and 30 days of the follow, so far (a follow less than 30 days ago may still block).${cut}`;
}
