// The holdout comparison of one scenario in words (docs/measuring.md), the same sentences in
// the Markdown report and on the HTML page. Counts and rates only.
import type { ScenarioFunnel } from './period-report.js';
import type { Interval, Lift } from './lift.js';

const users = (n: number): string => `${n.toLocaleString('en')} user${n === 1 ? '' : 's'}`;
const pct = (share: number | null): string => (share === null ? '—' : `${(share * 100).toFixed(1)}%`);
const signed = (x: number, digits: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
const points = (x: number): string => `${signed(x * 100, 1)} points`;
const relative = (x: number): string => `${signed(x * 100, 0)}%`;
const between = (i: Interval, f: (x: number) => string): string => `${f(i.low)} to ${f(i.high)}`;

function liftSentence(lift: Lift): string {
  if (lift.notEnough !== undefined || lift.absolute === undefined || lift.relative === undefined)
    return `lift: not enough data yet (${lift.notEnough || 'no users'}; each group needs 30 users, 5 who converted and 5 who did not)`;
  const abs = `${points(lift.absolute)} (95% interval ${between(lift.absoluteInterval!, points)})`;
  const rel = `${relative(lift.relative)} (${between(lift.relativeInterval!, relative)})`;
  return `lift ${abs}, ${rel} over the held out (two-proportion normal approximation)`;
}

/** The comparison as sentences (none when nobody who entered in the period was held out). */
export function holdoutSentences(s: ScenarioFunnel): string[] {
  if (!s.holdout) return [];
  const { counts: c, lift } = s.holdout;
  const groups =
    `Holdout: treated ${users(c.treated)}, ${pct(lift.treatedRate)} converted · ` +
    `held out ${users(c.heldOut)}, ${pct(lift.heldOutRate)} converted · ${liftSentence(lift)}.`;
  if (!c.moved) return [groups];
  return [
    groups,
    `${users(c.moved)} changed group while inside (the holdout's percent or salt changed), left out of the comparison.`,
  ];
}
