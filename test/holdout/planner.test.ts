// Holdout groups in the planner (issue 26, docs/measuring.md): who is held out, and that a
// held-out user walks the same steps at the same moments as a treated one, with nothing sent.
import { test } from '@fast-check/vitest';
import { expect, test as plain } from 'vitest';
import fc from 'fast-check';
import { compileScenario } from '../../src/scenario/compile.js';
import type { Scenario } from '../../src/scenario/schema.js';
import type { Decision, EventFact } from '../../src/planner/types.js';
import { holdoutPoint, isHeldOut } from '../../src/planner/holdout.js';
import { chooseArm } from '../../src/planner/split.js';
import { DAY, HOUR, MINUTE } from '../../src/time/zoned.js';
import { EVENTS, scenarioArb } from '../support/arbitraries.js';
import { every, simulate, user } from '../support/simulate.js';

const START = Date.parse('2026-11-02T03:00:00Z');
const ids = (n: number) => Array.from({ length: n }, (_, i) => `U${i.toString(16).padStart(32, '0')}`);

plain('the held-out share is the percent, and the group depends on the scenario, the salt and the user only', () => {
  const users = ids(20_000);
  for (const percent of [5, 10, 33.3, 50]) {
    const held = users.filter((u) => isHeldOut(u, 'cart', { percent })).length;
    expect(Math.abs(held / users.length - percent / 100)).toBeLessThan(0.01);
  }
  // A larger percent keeps everyone held out before and adds only the margin.
  for (const u of users.slice(0, 2_000))
    if (isHeldOut(u, 'cart', { percent: 10 })) expect(isHeldOut(u, 'cart', { percent: 20 })).toBe(true);
  // Another salt or another scenario draws another group (about 10% of 10% overlap).
  const a = users.filter((u) => isHeldOut(u, 'cart', { percent: 10 }));
  const salted = a.filter((u) => isHeldOut(u, 'cart', { percent: 10, salt: 'v2' })).length;
  const other = a.filter((u) => isHeldOut(u, 'welcome', { percent: 10 })).length;
  expect(salted / a.length).toBeLessThan(0.2);
  expect(other / a.length).toBeLessThan(0.2);
  // Independent of an A/B split of the same scenario: each arm holds out about the same share.
  const split = {
    id: 's',
    type: 'split' as const,
    arms: [
      { name: 'a', weight: 1, next: 'x' },
      { name: 'b', weight: 1, next: 'y' },
    ],
  };
  for (const arm of ['a', 'b']) {
    const inArm = users.filter((u) => chooseArm(u, 'cart', split).name === arm);
    const share = inArm.filter((u) => isHeldOut(u, 'cart', { percent: 10 })).length / inArm.length;
    expect(Math.abs(share - 0.1)).toBeLessThan(0.015);
  }
  expect(holdoutPoint(users[0]!, 'cart', undefined)).toBe(holdoutPoint(users[0]!, 'cart', ''));
});

const historyArb = fc.array(
  fc.record({
    type: fc.constantFrom(...EVENTS),
    offset: fc.oneof(fc.integer({ min: 1, max: 8 * HOUR }), fc.integer({ min: 1, max: 30 * DAY })),
  }),
  { maxLength: 6 },
);

/** What a decision does to a user, with what reaches LINE told apart: a send or a rich menu change. */
function reachesLine(d: Decision): boolean {
  return d.kind === 'send' || (d.kind === 'act' && d.richMenu !== undefined);
}

/** The treated user's decision as a held-out user's should be: the same step at the same moment, nothing sent. */
function asHeldOut(d: Decision): string {
  if (d.kind === 'send') return `holdout ${d.stepId} @${d.dueAt}`;
  if (d.kind === 'act') {
    const facts = d.tags.add.length + d.tags.remove.length + d.attributes.clear.length;
    return facts + Object.keys(d.attributes.set).length > 0 || d.richMenu === undefined
      ? `act ${d.stepId} @${d.dueAt} ${JSON.stringify([d.tags, d.attributes])}`
      : `holdout ${d.stepId} @${d.dueAt}`;
  }
  return show(d);
}

function show(d: Decision): string {
  if (d.kind === 'holdout') return `holdout ${d.stepId} @${d.dueAt}`;
  if (d.kind === 'act') return `act ${d.stepId} @${d.dueAt} ${JSON.stringify([d.tags, d.attributes])}`;
  if (d.kind === 'branch') return `branch ${d.stepId} → ${d.to} (${d.via})`;
  if (d.kind === 'send') return `send ${d.stepId}`;
  return `${d.kind} ${d.stepId}`;
}

test.prop(
  [
    scenarioArb({ maxSteps: 6 }),
    historyArb,
    fc.integer({ min: 1, max: 50 }),
    fc.string({ maxLength: 8 }),
    fc.constantFrom(5 * MINUTE, HOUR, 6 * HOUR),
  ],
  { numRuns: 200 },
)(
  'a held-out user is sent nothing and walks the same steps, branches and moments as if treated',
  (scenario, history, percent, salt, interval) => {
    const held: Scenario = { ...scenario, holdout: { percent, salt }, goal: scenario.goal ?? { event: 'purchased' } };
    const treated: Scenario = { ...held, holdout: undefined };
    // At 1%, 400 users hold none about once in 55 runs: 5,000 hold one but once in 10^21.
    const userId = ids(5000).find((u) => isHeldOut(u, held.id, held.holdout));
    if (userId === undefined) throw new Error(`no held-out user among 5,000 at ${percent}%`);
    const events: EventFact[] = history.map((e, i) => ({
      id: `ev${i}`,
      type: e.type,
      occurredAt: START + e.offset,
      properties: {},
    }));
    const run = (s: Scenario) =>
      simulate({
        compiled: compileScenario(s),
        user: user({ userId }),
        events,
        enteredAt: START,
        ticks: every(START, interval, START + 60 * DAY),
      });
    const out = run(held);
    expect(out.decisions.filter((d) => reachesLine(d.decision)).map((d) => show(d.decision))).toEqual([]);
    const expected = run(treated).decisions.map((d) => asHeldOut(d.decision));
    expect(out.decisions.map((d) => show(d.decision))).toEqual(expected);
  },
);
