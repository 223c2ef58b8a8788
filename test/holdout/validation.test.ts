// "holdout" in a scenario file: a percent above 0 and at most 50, and a goal to measure;
// anything else is refused at the file, line and column with the fix.
import { test, expect } from 'vitest';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { formatIssue } from '../../src/scenario/issues.js';

const cart = (scenario: Record<string, unknown>) => ({
  id: 'cart',
  version: 1,
  entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
  goal: { event: 'purchased' },
  steps: [{ id: 'nudge', type: 'message', messages: [{ type: 'text', text: 'still thinking?' }] }],
  ...scenario,
});

const issues = (value: unknown) =>
  validateScenarioText('scenarios/cart.json', JSON.stringify(value, null, 2)).issues.map(formatIssue);

test('a holdout of more than 0 and at most 50 percent, with or without a salt, validates', () => {
  expect(issues(cart({ holdout: { percent: 10 } }))).toEqual([]);
  expect(issues(cart({ holdout: { percent: 0.5, salt: '2026-12' } }))).toEqual([]);
  expect(issues(cart({ holdout: { percent: 50 } }))).toEqual([]);
});

test.each([0, -5, 50.5, 100])('a holdout of %s percent is refused at its line with the bounds', (percent) => {
  const found = issues(cart({ holdout: { percent } }));
  expect(found).toHaveLength(1);
  expect(found[0]).toMatch(
    /^scenarios\/cart\.json:26:5 \$\.holdout\.percent: a holdout percent is more than 0 and at most 50/,
  );
});

test('a percent written as a string, or a property the holdout does not know, is refused', () => {
  expect(issues(cart({ holdout: { percent: '10' } }))[0]).toMatch(/\$\.holdout\.percent/);
  expect(issues(cart({ holdout: { percent: 10, seed: 'x' } }))[0]).toMatch(/\$\.holdout: unknown property "seed"/);
});

test('a holdout without a goal is refused: it would measure nothing', () => {
  const found = issues(cart({ goal: undefined, holdout: { percent: 10 } }));
  expect(found).toEqual([expect.stringMatching(/\$\.holdout: a holdout measures conversion to the goal.*add "goal"/)]);
  expect(found[0]).toMatch(/\[holdout\]$/);
});
