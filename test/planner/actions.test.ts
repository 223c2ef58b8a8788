// An action step's change of tags and attributes (src/planner/actions.ts), and the planner
// deciding it at the step's moment with later steps seeing the change.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyChange, tagsOf, type ActionChange } from '../../src/planner/actions.js';
import { planEnrollment } from '../../src/planner/plan.js';
import { compileScenario } from '../../src/scenario/compile.js';
import type { Scenario } from '../../src/scenario/schema.js';

const change = (over: Partial<ActionChange> = {}): ActionChange => ({
  tags: { add: [], remove: [] },
  attributes: { set: {}, clear: [] },
  ...over,
});

test('tags stay distinct, removing wins over adding, attributes are set and cleared, others kept', () => {
  const r = applyChange(
    { tags: ['a', 'b', 'a'], plan: 'free', trial: true, region: 'kanto' },
    change({
      tags: { add: ['c', 'b', 'x'], remove: ['a', 'x'] },
      attributes: { set: { plan: 'gold' }, clear: ['trial'] },
    }),
  );
  assert.deepEqual(r, { attributes: { tags: ['b', 'c'], plan: 'gold', region: 'kanto' } });
  assert.deepEqual(tagsOf({ tags: 'solo' }), ['solo']);
  assert.deepEqual(applyChange({ tags: 'solo' }, change({ attributes: { set: { a: 1 }, clear: [] } })), {
    attributes: { tags: 'solo', a: 1 },
  });
});

test('property: the result holds every tag added and not removed, none removed, no repeats; growing past 100 is an error', () => {
  const tag = fc.constantFrom(...Array.from({ length: 130 }, (_, i) => `t${i}`));
  fc.assert(
    fc.property(
      fc.array(tag, { maxLength: 110 }),
      fc.array(tag, { maxLength: 20 }),
      fc.array(tag, { maxLength: 20 }),
      (before, add, remove) => {
        const r = applyChange({ tags: before }, change({ tags: { add, remove } }));
        // No tag named: the list is left as it is, repeats and all.
        if (!add.length && !remove.length) return 'attributes' in r && r.attributes.tags === before;
        const expected = new Set([...before, ...add].filter((t) => !remove.includes(t)));
        if (expected.size > 100 && expected.size > new Set(before).size)
          return 'error' in r && r.error.includes(`${expected.size} tags`);
        if (!('attributes' in r)) return false;
        const tags = r.attributes.tags as string[];
        return tags.length === expected.size && tags.every((t) => expected.has(t));
      },
    ),
  );
});

const scenario: Scenario = {
  id: 'tagging',
  version: 1,
  entry: { trigger: { type: 'event', event: 'signed_up' } },
  steps: [
    { id: 'tag', type: 'action', wait: { after: { hours: 1 } }, tags: { add: ['vip'] }, richMenu: { unlink: true } },
    {
      id: 'check',
      type: 'branch',
      branches: [{ when: { field: 'user.tags', contains: 'vip' }, next: 'vip' }],
      default: 'end',
    },
    { id: 'vip', type: 'message', messages: [{ type: 'text', text: 'hi' }] },
  ],
};
const compiled = compileScenario(scenario);
const enteredAt = Date.parse('2026-11-25T00:00:00Z');
const plan = (now: number, attributes: Record<string, unknown> = {}) =>
  planEnrollment({
    scenario: { compiled, activatedAt: enteredAt + 10 * 3600_000 },
    enrollment: {
      id: 'e1',
      scenarioId: 'tagging',
      scenarioHash: compiled.hash,
      enteredAt,
      trigger: {},
      stepId: 'tag',
      previousAt: enteredAt,
      converted: false,
    },
    user: { userId: 'U1', following: true, attributes, answers: {} },
    events: [],
    now,
  });

test('the action happens at its moment (even before the scenario was switched on), and the branch after it sees the tag', () => {
  assert.deepEqual(plan(enteredAt + 59 * 60_000).outcome, { kind: 'wait', until: enteredAt + 3600_000 });
  const p = plan(enteredAt + 3600_000);
  assert.deepEqual(
    p.decisions.map((d) => d.kind + ':' + d.stepId),
    // The message fell due before the scenario was switched on, so it expires; the action is no message.
    ['act:tag', 'branch:check', 'expire:vip'],
  );
  const act = p.decisions[0]!;
  assert.ok(act.kind === 'act');
  assert.deepEqual([act.dueAt, act.tags.add, act.richMenu], [enteredAt + 3600_000, ['vip'], { unlink: true }]);
});

test('a user with 100 tags: the step fails with the reason, nothing else of it happens, and the branch sees no vip tag', () => {
  const full = Array.from({ length: 100 }, (_, i) => `t${i}`);
  const p = plan(enteredAt + 3600_000, { tags: full });
  assert.deepEqual(
    p.decisions.map((d) => [d.kind, d.stepId]),
    [
      ['fail', 'tag'],
      ['branch', 'check'],
    ],
  );
  assert.match((p.decisions[0] as { reason: string }).reason, /101 tags; at most 100/);
  assert.deepEqual(p.outcome, { kind: 'finish' });
});
