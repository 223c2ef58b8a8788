// The HTML report's page as text (no browser needed): a scenario with nothing in the
// period is one line, the y-axis ticks are distinct whole numbers, and times are in the
// report's zone (Asia/Tokyo). test/report/html.test.ts opens the page in Chromium.
import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fetchPeriodReport } from '../../src/report/period-report.js';
import { axisMax, daysSvg, reportHtml } from '../../src/report/report-html.js';
import { pgliteStore } from '../support/db.js';
import { jst, writeCartWeek } from './fixture.js';

/** The tick labels of each chart of the page, in order. */
const ticksOf = (html: string) =>
  [...html.matchAll(/<svg[^>]*>(.*?)<\/svg>/gs)].map(([, body]) =>
    [...body!.matchAll(/<text[^>]*class="tick"[^>]*>([^<]*)<\/text>/g)].map(([, t]) => t),
  );

propTest.prop([fc.array(fc.nat({ max: 10_000_000 }), { maxLength: 40 })])(
  "a scale's ticks (0, half, top) are distinct whole numbers, and its top holds every value",
  (values) => {
    const max = axisMax(values);
    const top = Math.max(1, ...values);
    assert.ok(Number.isInteger(max / 2) && max / 2 > 0, `half of ${max}`);
    assert.ok(max >= top, `${max} holds ${top}`);
    assert.ok(max <= (top < 10 ? 2 : 1.5) * top, `${max} is close to ${top}: the bars are not squashed`);
  },
);

test('a chart of ones: the ticks read 0, 1, 2, never "1, 1, 0"', () => {
  const svg = daysSvg(
    [
      { day: '2026-11-16', sent: 1, conversions: 1 },
      { day: '2026-11-17', sent: 0, conversions: 0 },
    ],
    'days',
  );
  assert.deepEqual(ticksOf(svg), [['0', '1', '2']]);
  assert.deepEqual(
    [...svg.matchAll(/class="tick goals">([^<]*)</g)].map(([, t]) => t),
    ['0', '1', '2'],
  );
});

test("a scenario nobody entered in the period is one line; times are in the report's zone", async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  // The 24th: one user entered cart; nobody entered welcome, nothing was sent to anyone.
  const report = await fetchPeriodReport(store, { from: jst(24), to: jst(25), label: 'the 24th' });
  const html = reportHtml([report], { now: jst(25, 9, 30), store: 'PGlite', notes: [] });
  await db.close();
  assert.match(html, /Made 2026-11-25 09:30 \(Asia\/Tokyo\)/);
  assert.match(html, /2026-11-24 00:00 → 2026-11-25 00:00 \(Asia\/Tokyo\)/);
  const welcome = [...html.matchAll(/<[^>]*data-scenario="welcome"[^>]*>/g)].map(([tag]) => tag);
  assert.deepEqual(welcome, ['<p class="scenario quiet" data-scenario="welcome">']);
  assert.match(html, /<code>welcome<\/code>: nobody entered and nothing was sent in this period\./);
  assert.ok(html.includes('<section class="scenario" data-scenario="cart">'), 'cart: someone entered');
  for (const ticks of ticksOf(html)) assert.equal(new Set(ticks).size, ticks.length, `ticks ${ticks.join(', ')}`);
});
