// Bounds for what one step may do (issue 27 item 7), checked at validation: at most
// LIMITS.changesPerStep changes (each an event per user) and LIMITS.attributeCharsPerStep
// characters of values. The issue's step (2,000 long values: 200,000 events for 100 users)
// is refused at its line; a step at the bounds validates.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { LIMITS } from '../../src/scenario/schema.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';

const scenarioWith = (action: Record<string, unknown>) =>
  JSON.stringify(
    {
      id: 'bounds',
      version: 1,
      entry: { trigger: { type: 'follow' } },
      steps: [{ id: 'act', type: 'action', ...action }],
    },
    null,
    2,
  );
const attributes = (n: number, length: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'x'.repeat(length)]));
const tags = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('the issue’s step (2,000 attributes of 1,000 characters) is refused at the step, with the bound and the fix', () => {
  const result = validateScenarioText('bounds.json', scenarioWith({ attributes: { set: attributes(2000, 1000) } }));
  const issues = result.issues.filter((i) => i.rule === 'step-bounds');
  assert.equal(issues.length, 2, result.issues.map(formatIssue).join('\n'));
  assert.match(issues[0]!.message, /makes 2000 changes.*at most 50 per step.*split it/);
  assert.match(issues[1]!.message, /hold 2000000 characters; at most 10000 per step/);
  assert.ok(issues.every((i) => i.line > 1));
});

test('a step at the bounds validates; one change or one character more is refused', () => {
  const max = LIMITS.changesPerStep;
  const atBound = {
    tags: { add: tags(20, 'a'), remove: tags(20, 'r') },
    attributes: { set: attributes(max - 41, 10) },
    richMenu: { unlink: true },
  };
  assert.deepEqual(validateScenarioText('b.json', scenarioWith(atBound)).issues.map(formatIssue), []);
  const over = { ...atBound, attributes: { set: attributes(max - 40, 10) } };
  assert.ok(validateScenarioText('b.json', scenarioWith(over)).issues.some((i) => i.rule === 'step-bounds'));
  const chars = LIMITS.attributeCharsPerStep / 10;
  const longAtBound = { attributes: { set: attributes(10, chars) } };
  assert.deepEqual(validateScenarioText('b.json', scenarioWith(longAtBound)).issues.map(formatIssue), []);
  const longOver = { attributes: { set: { ...attributes(10, chars), more: 'x' } } };
  assert.ok(validateScenarioText('b.json', scenarioWith(longOver)).issues.some((i) => i.rule === 'step-bounds'));
});

test('the sample scenarios stay well inside the bounds (a real scenario never meets them)', async () => {
  const { scenarios } = await loadScenarioDir('scenarios');
  for (const { scenario } of scenarios)
    for (const step of scenario.steps) {
      if (step.type !== 'action') continue;
      const changes =
        (step.tags?.add?.length ?? 0) +
        (step.tags?.remove?.length ?? 0) +
        Object.keys(step.attributes?.set ?? {}).length +
        (step.attributes?.clear?.length ?? 0);
      assert.ok(changes <= LIMITS.changesPerStep / 5, `${scenario.id}/${step.id}: ${changes}`);
    }
});
