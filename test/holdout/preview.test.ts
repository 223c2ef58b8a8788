// The PR preview says what a change of a scenario's holdout does to users inside it.
import { expect, test } from 'vitest';
import { diffScenarioSets } from '../../src/preview/diff.js';
import type { Scenario } from '../../src/scenario/schema.js';

const cart = (holdout?: Scenario['holdout']): Scenario => ({
  id: 'cart',
  version: 1,
  entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
  goal: { event: 'purchased' },
  ...(holdout ? { holdout } : {}),
  steps: [{ id: 'nudge', type: 'message', messages: [{ type: 'text', text: 'still thinking?' }] }],
});

const said = (base: Scenario, head: Scenario) => diffScenarioSets([base], [head])[0]?.details.join('\n') ?? '';

test.each([
  [cart(), cart({ percent: 10 }), /holdout added \(10%\): that share of users.*those inside now included/],
  [cart({ percent: 10 }), cart(), /holdout removed: the 10% held out get their remaining steps from the next tick/],
  [
    cart({ percent: 10, salt: 'a' }),
    cart({ percent: 20, salt: 'a' }),
    /holdout changed from 10% to 20%: the salt is the same, so users already assigned keep their group except the margin: it holds out, from their next step, the users between 10% and 20%/,
  ],
  [
    cart({ percent: 20 }),
    cart({ percent: 5 }),
    /from 20% to 5%.*sends their remaining steps to the users between 5% and 20%/,
  ],
  [cart({ percent: 10, salt: 'a' }), cart({ percent: 10, salt: 'b' }), /holdout salt changed: a new draw of 10%/],
])('%# the preview explains a holdout change', (base, head, words) => {
  expect(said(base, head)).toMatch(words);
});

test('an edit that keeps the holdout says nothing about it', () => {
  const head = { ...cart({ percent: 10 }), version: 2, name: 'renamed' };
  expect(said(cart({ percent: 10 }), head)).not.toMatch(/holdout/);
});
