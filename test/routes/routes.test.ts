// Routes compared (issue 26 item 4) on the real server: per follow route of a period,
// friends added, blocked within 7 and 30 days of the follow, and per scenario entered and
// reached the goal, from follows taken in by ticks; then the table in the Markdown report
// and on the HTML page, with no user id.
import { afterAll, expect, test } from 'vitest';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { checkPeriod, fetchPeriodReport } from '../../src/report/period-report.js';
import { reportMarkdown } from '../../src/report/report-markdown.js';
import { reportHtml } from '../../src/report/report-html.js';
import { DAY, HOUR } from '../../src/time/zoned.js';
import { serverStore } from '../support/db.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const db = await serverStore();
afterAll(() => db.drop());

const welcome: Scenario = {
  id: 'welcome',
  version: 1,
  entry: { trigger: { type: 'follow' } },
  goal: { event: 'purchased' },
  steps: [
    { id: 'hello', type: 'message', messages: [{ type: 'text', text: 'hello' }] },
    { id: 'later', type: 'message', wait: { after: { days: 30 } }, messages: [{ type: 'text', text: 'later' }] },
  ],
};

test('per route: added, blocked within 7 and 30 days, entered and converted per scenario; the table in the report', async () => {
  const loaded = loadScenarioTexts([{ file: 'welcome.json', text: JSON.stringify(welcome) }]);
  expect(loaded.issues).toEqual([]);
  const scenarios = loaded.scenarios.map((s) => s.compiled);
  let now = Date.parse('2026-11-02T01:00:00Z');
  const tick = () => runTick({ store: db.store, sender: new NoLineSender(), scenarios, now: () => now });
  const insert = (user: string, type: string, at: number, properties: Record<string, unknown> = {}) =>
    db.db.query(
      `insert into events (line_user_id, type, occurred_at, properties) values ($1, $2, to_timestamp($3 / 1000.0), $4)`,
      [user, type, at, JSON.stringify(properties)],
    );
  await tick();
  const from = now;
  now += HOUR;
  // qr: 10 friends (3 buy; 2 block after 3 days, 1 after 20 days, 1 after 40 days);
  // ad: 4 friends (1 buys, 1 blocks after 6 days); no route: 2 friends.
  for (let i = 1; i <= 10; i++) await insert(U(i), 'follow', now, { route: 'qr' });
  for (let i = 11; i <= 14; i++) await insert(U(i), 'follow', now, { route: 'ad' });
  for (let i = 15; i <= 16; i++) await insert(U(i), 'follow', now);
  now += HOUR;
  await tick();
  for (const i of [1, 2, 3, 11]) await insert(U(i), 'purchased', now);
  now += HOUR;
  await tick();
  const follow = from + HOUR;
  await insert(U(4), 'unfollow', follow + 3 * DAY);
  await insert(U(5), 'unfollow', follow + 3 * DAY);
  await insert(U(6), 'unfollow', follow + 20 * DAY);
  await insert(U(7), 'unfollow', follow + 40 * DAY);
  await insert(U(12), 'unfollow', follow + 6 * DAY);
  // A follow outside the period is not counted.
  await insert(U(20), 'follow', from - DAY, { route: 'qr' });

  const to = from + 7 * DAY;
  const { routes, more } = await db.store.routeReport({ from, to });
  expect(more).toBe(false);
  expect(routes).toEqual([
    {
      route: 'qr',
      added: 10,
      blocked7d: 2,
      blocked30d: 3,
      scenarios: [{ scenarioId: 'welcome', entered: 10, converted: 3 }],
    },
    {
      route: 'ad',
      added: 4,
      blocked7d: 1,
      blocked30d: 1,
      scenarios: [{ scenarioId: 'welcome', entered: 4, converted: 1 }],
    },
    {
      route: null,
      added: 2,
      blocked7d: 0,
      blocked30d: 0,
      scenarios: [{ scenarioId: 'welcome', entered: 2, converted: 0 }],
    },
  ]);
  // At most routes_limit routes, the most friends first, and "more" says some were left out.
  expect(await db.store.routeReport({ from, to, limit: 1 })).toEqual({ routes: [routes[0]], more: true });

  const report = await fetchPeriodReport(db.store, checkPeriod(from, to, 'a week'));
  const md = reportMarkdown([report], { now: to, store: 'test', notes: [] });
  expect(md).toContain('### Follow routes compared');
  expect(md).toContain('| qr | 10 | 2 (20.0%) | 3 (30.0%) | welcome 10 → 3 (30.0%) |');
  expect(md).toContain('| (no route) | 2 | 0 (0.0%) | 0 (0.0%) | welcome 2 → 0 (0.0%) |');
  const html = reportHtml([report], { now: to, store: 'test', notes: [] });
  expect(html).toContain('<th scope="row">ad</th><td>4</td><td>1 (25.0%)</td>');
  for (let i = 1; i <= 20; i++) {
    expect(md).not.toContain(U(i));
    expect(html).not.toContain(U(i));
  }
});
