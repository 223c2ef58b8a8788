// A file nested thousands of levels deep (issue 27: validation never crashes on a scenario)
// is an issue at its line, not a stack overflow in validate, the PR check or the tick.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { MAX_NESTING } from '../../src/scenario/json-source.js';

const wrap = (inner: string, n: number) => {
  let c = inner;
  for (let i = 0; i < n; i++) c = `{"not": ${c}}`;
  return c;
};
const file = (audience: string) =>
  `{"id": "deep", "version": 1,\n "entry": {"trigger": {"type": "follow"},\n "audience": ${audience}},\n "steps": [{"id": "a", "type": "message", "messages": [{"type": "text", "text": "x"}]}]}`;
const condition = '{"field": "user.plan", "eq": "gold"}';

test('a condition nested 100,000 deep is refused at its line with the bound; one at the bound validates', () => {
  for (const n of [MAX_NESTING, 5_000, 100_000]) {
    const result = validateScenarioText('deep.json', file(wrap(condition, n)));
    assert.equal(result.issues.length, 1, `${n}`);
    assert.equal(result.issues[0]!.rule, 'json-syntax');
    assert.equal(result.issues[0]!.line, 3);
    assert.match(result.issues[0]!.message, new RegExp(`deeper than ${MAX_NESTING} levels.*flatten it`));
  }
  // The audience sits at level 3; a chain of "not"s that stays within the bound is taken.
  const within = validateScenarioText('deep.json', file(wrap(condition, MAX_NESTING - 4)));
  assert.deepEqual(within.issues, []);
});
