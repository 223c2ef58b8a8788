// Names that are what they look like (issue 27 item 5): a path in a condition, a filter or
// a placeholder reads own properties only. user.constructor, answers.toString and
// trigger.__proto__ are absent unless the user, the answers or the trigger really hold them
// (as JSON.parse, and so the store, makes them); the engine's own attributes cannot be
// written by a step, even one that came past validation.
import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate, conditionContext, matchesFilter } from '../../src/planner/conditions.js';
import { renderMessages } from '../../src/planner/render.js';
import { actionChange, applyChange } from '../../src/planner/actions.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { ENGINE_ATTRIBUTES } from '../../src/contract/names.js';
import type { Scenario } from '../../src/scenario/schema.js';

const INHERITED = [...Object.getOwnPropertyNames(Object.prototype), '__proto__'].filter((n) =>
  /^[A-Za-z0-9_]+$/.test(n),
);
const name = fc.constantFrom(...INHERITED);
const namespace = fc.constantFrom('user', 'answers', 'trigger');
/** An own value for the name, or none: built as JSON.parse builds what the store returns. */
const held = fc.option(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { nil: undefined });
const withKey = (key: string, value: unknown): Record<string, unknown> =>
  value === undefined
    ? {}
    : (JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`) as Record<string, unknown>);

test.prop([namespace, name, held], { numRuns: 300 })(
  'property: a condition or a filter on a prototype member sees only an own value',
  (ns, key, value) => {
    const facts = withKey(key, value);
    const source = { user: {}, answers: {}, trigger: {}, [ns]: facts };
    const ctx = conditionContext(
      { attributes: source.user, answers: source.answers },
      { trigger: source.trigger, enteredAt: 0, previousAt: 0 },
      0,
    );
    const field = `${ns}.${key}`;
    assert.equal(evaluate({ field, exists: true }, ctx), value !== undefined, field);
    assert.equal(evaluate({ field: `${field}.length`, exists: true }, ctx), false, `${field}.length`);
    assert.equal(matchesFilter(facts, { [key]: { exists: true } }), value !== undefined, `filter ${key}`);
  },
);

const scenario = (text: string, extra: Partial<Scenario['steps'][number]> = {}): Scenario => ({
  id: 'own',
  version: 1,
  entry: { trigger: { type: 'follow' } },
  steps: [{ id: 'hello', type: 'message', messages: [{ type: 'text', text }], ...extra } as Scenario['steps'][number]],
});

test.prop([namespace, name, held], { numRuns: 200 })(
  'property: a placeholder naming a prototype member is filled only from an own value, else its fallback',
  (ns, key, value) => {
    const compiled = compileScenario(scenario(`hi {{${ns}.${key}|friend}}`));
    const facts = withKey(key, value);
    const input = { attributes: {}, answers: {}, trigger: {}, [ns === 'user' ? 'attributes' : ns]: facts };
    const rendered = renderMessages(compiled.steps.get('hello')!, input);
    assert.ok('messages' in rendered, JSON.stringify(rendered));
    const expected = value === undefined || value === '' ? 'friend' : String(value);
    assert.equal((rendered.messages[0] as { text: string }).text, `hi ${expected}`);
  },
);

test.prop([name])('property: {{link.<prototype member>}} is not a link of the step', (key) => {
  const result = validateScenarioText(
    'own.json',
    JSON.stringify(scenario(`see {{link.${key}}}`, { links: { coupon: 'https://example.com/c' } })),
  );
  assert.ok(
    result.issues.some((i) => i.rule === 'placeholder' && i.message.includes(key)),
    JSON.stringify(result.issues),
  );
});

test('an attribute name the engine owns, or that cannot be a key, is refused by validation and by the engine alike', () => {
  for (const attr of [...ENGINE_ATTRIBUTES, '__proto__']) {
    const text = `{"id": "own", "version": 1, "entry": {"trigger": {"type": "follow"}}, "steps": [
      {"id": "act", "type": "action", "attributes": {"set": {${JSON.stringify(attr)}: "x"}}}]}`;
    const result = validateScenarioText('own.json', text);
    assert.ok(result.issues.length > 0 && !result.scenario, `${attr}: validated`);
    // Not silently dropped: the issue names the attribute at its line.
    assert.ok(
      result.issues.some((i) => i.line === 2 && /belongs to the engine|prototype/.test(i.message)),
      `${attr}: ${JSON.stringify(result.issues)}`,
    );
    const change = actionChange({ attributes: { set: JSON.parse(`{${JSON.stringify(attr)}: "x"}`) } });
    const applied = applyChange({ plan: 'gold' }, change);
    assert.ok('error' in applied, `${attr}: the engine applied it`);
  }
  const cleared = applyChange({ linked: true }, actionChange({ attributes: { clear: ['linked'] } }));
  assert.ok('error' in cleared);
});
