// The report's holdout comparison: the lift and its 95% interval by the two-proportion
// normal approximation, checked by hand; "not enough data yet" below its size; the words in
// the Markdown report and on the HTML page.
import { test } from '@fast-check/vitest';
import { expect, test as plain } from 'vitest';
import fc from 'fast-check';
import { liftOf } from '../../src/report/lift.js';
import { shapeReport } from '../../src/report/period-report.js';
import { reportMarkdown } from '../../src/report/report-markdown.js';
import { reportHtml } from '../../src/report/report-html.js';
import type { HoldoutCounts, ScenarioReport } from '../../src/store/report-data.js';

const counts = (treated: number, tc: number, heldOut: number, hc: number, moved = 0): HoldoutCounts => ({
  scenarioId: 'cart',
  treated,
  treatedConverted: tc,
  heldOut,
  heldOutConverted: hc,
  moved,
});

plain('10% of 1,000 treated against 6% of 200 held out: +4 points (0.2 to 7.8), +67% (−7% to +197%)', () => {
  // By hand: se = √(0.1·0.9/1000 + 0.06·0.94/200) = 0.019287; 0.04 ± 1.96·se.
  // Relative: ln(0.1/0.06) ± 1.96·√(0.9/100 + 0.94/12) = 0.5108 ± 0.5792.
  const l = liftOf(counts(1000, 100, 200, 12));
  expect(l.notEnough).toBeUndefined();
  expect(l.treatedRate).toBeCloseTo(0.1, 10);
  expect(l.heldOutRate).toBeCloseTo(0.06, 10);
  expect(l.absolute).toBeCloseTo(0.04, 10);
  expect(l.absoluteInterval!.low).toBeCloseTo(0.0022, 4);
  expect(l.absoluteInterval!.high).toBeCloseTo(0.0778, 4);
  expect(l.relative).toBeCloseTo(2 / 3, 10);
  expect(l.relativeInterval!.low).toBeCloseTo(-0.0661, 3);
  expect(l.relativeInterval!.high).toBeCloseTo(1.9743, 3);
});

plain.each([
  [counts(1000, 100, 29, 10), /held out: 29 of 30 users/],
  [counts(1000, 100, 200, 4), /held out: 4 of 5 conversions/],
  [counts(30, 26, 200, 12), /treated: 4 of 5 users who did not convert/],
  [counts(0, 0, 0, 0), /treated: 0 of 30 users; held out: 0 of 30 users/],
])('below the size of the approximation there is no lift, and the short group is named', (c, why) => {
  const l = liftOf(c);
  expect(l.absolute).toBeUndefined();
  expect(l.notEnough).toMatch(why);
});

test.prop([
  fc.integer({ min: 30, max: 5000 }),
  fc.integer({ min: 30, max: 5000 }),
  fc.double({ min: 0.2, max: 0.8, noNaN: true }),
  fc.double({ min: 0.2, max: 0.8, noNaN: true }),
])('the interval holds the estimate, and four times the users halve its width', (nt, nh, pt, ph) => {
  const c = counts(nt, Math.round(nt * pt), nh, Math.round(nh * ph));
  const one = liftOf(c);
  const four = liftOf(counts(4 * nt, 4 * c.treatedConverted, 4 * nh, 4 * c.heldOutConverted));
  expect(one.absoluteInterval!.low).toBeLessThan(one.absolute!);
  expect(one.absoluteInterval!.high).toBeGreaterThan(one.absolute!);
  expect(one.relativeInterval!.low).toBeLessThan(one.relative!);
  expect(one.relativeInterval!.high).toBeGreaterThan(one.relative!);
  const width = (l: typeof one) => l.absoluteInterval!.high - l.absoluteInterval!.low;
  expect(width(four) / width(one)).toBeCloseTo(0.5, 6);
});

const scenario: ScenarioReport = {
  id: 'cart',
  name: 'Cart recovery',
  timezone: 'Asia/Tokyo',
  status: 'active',
  goal: 'purchased',
  entered: 1300,
  goalReached: 112,
  waiting: 0,
  finished: 0,
  exited: 0,
  conversions: 112,
  exits: [],
  steps: [],
  days: [],
};
const period = {
  from: Date.parse('2026-11-01T00:00:00+09:00'),
  to: Date.parse('2026-11-08T00:00:00+09:00'),
  label: 'a week',
};

plain('the report shows both rates and the lift with its interval; without a holdout nothing is added', () => {
  const md = reportMarkdown([shapeReport(period, [scenario], [counts(1000, 100, 200, 12, 3)])], {
    now: period.to,
    store: 'test',
    notes: [],
  });
  expect(md).toContain(
    'Holdout: treated 1,000 users, 10.0% converted · held out 200 users, 6.0% converted · lift +4.0 points (95% interval +0.2 points to +7.8 points), +67% (−7% to +197%) over the held out (two-proportion normal approximation).',
  );
  expect(md).toContain('3 users changed group while inside');
  const html = reportHtml([shapeReport(period, [scenario], [counts(1000, 100, 20, 2)])], {
    now: period.to,
    store: 'test',
    notes: [],
  });
  expect(html).toMatch(
    /<p class="holdout">Holdout: treated 1,000 users, 10.0% converted · held out 20 users, 10.0% converted · lift: not enough data yet \(held out: 20 of 30 users; /,
  );
  const none = reportMarkdown([shapeReport(period, [scenario], [counts(1300, 112, 0, 0)])], {
    now: period.to,
    store: 'test',
    notes: [],
  });
  expect(none).not.toContain('Holdout:');
});
