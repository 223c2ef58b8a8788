// Property: for any action step, good or bad, the validator and the generated JSON Schema
// (what an editor checks as you type) agree on whether it is well-formed, and every
// problem is placed at a line and column of the file.
import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { describeAction } from '../../src/scenario/action-summary.js';
import type { ActionStep } from '../../src/scenario/schema.js';

const jsonSchema = new Ajv2020({ strict: false, validateFormats: false }).compile(scenarioJsonSchema());

const tag = fc.oneof(
  fc.constantFrom('vip', 'new', 'タグ', '', 'a\tb', 'line\nbreak', 'x'.repeat(50), 'x'.repeat(51), '😀'.repeat(50)),
  fc.string({ maxLength: 55, unit: 'grapheme' }),
);
const tagList = fc.array(tag, { maxLength: 22 });
const attributeName = fc.oneof(
  fc.constantFrom('plan', 'visits', '_x', 'tags', 'linked', 'timezone', 'following', 'Tags', '1st', 'plan-name', ''),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,70}$/),
);
const attributeValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('x'.repeat(1000), 'x'.repeat(1001)),
  fc.integer(),
  fc.boolean(),
  fc.constantFrom(null, { tier: 'gold' }, ['a']),
);
const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
const richMenu = fc.oneof(
  hex32.map((h) => ({ id: `richmenu-${h}` })),
  fc.constantFrom({ id: 'richmenu-ABC' }, { id: 'member-menu' }, { alias: 'Member Menu' }, { alias: 'x'.repeat(33) }),
  fc.stringMatching(/^[a-z0-9_-]{1,32}$/).map((alias) => ({ alias })),
  fc.constantFrom({ unlink: true }, { unlink: false }, {}, { alias: 'a', unlink: true }, { alais: 'a' }, 'menu'),
);
const action = fc.record(
  {
    tags: fc.record({ add: tagList, remove: tagList }, { requiredKeys: [] }),
    attributes: fc.record(
      {
        set: fc.dictionary(attributeName, attributeValue, { maxKeys: 4 }),
        clear: fc.array(attributeName, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    richMenu,
    next: fc.constantFrom('hello', 'end', 'helo'),
    wat: fc.constant(1),
  },
  { requiredKeys: [] },
);

const SHAPE_RULES = new Set(['schema', 'unknown-property']);

test.prop([action], { numRuns: 400 })(
  'property: the validator and the JSON Schema agree on an action step, and every problem has its place',
  (fields) => {
    const scenario = {
      id: 'gen',
      version: 1,
      entry: { trigger: { type: 'follow' } },
      steps: [
        { id: 'act', type: 'action', ...fields },
        { id: 'hello', type: 'message', messages: [{ type: 'text', text: 'hi' }] },
      ],
    };
    const text = JSON.stringify(scenario, null, 2);
    const result = validateScenarioText('gen.json', text);
    const shapeProblems = result.issues.filter((i) => SHAPE_RULES.has(i.rule));
    assert.equal(
      jsonSchema(scenario),
      shapeProblems.length === 0,
      `validator: ${result.issues.map(formatIssue).join('; ') || 'none'}; JSON Schema: ${JSON.stringify(jsonSchema.errors)}`,
    );
    const lines = text.split('\n').length;
    for (const issue of result.issues) {
      assert.ok(issue.line >= 1 && issue.line <= lines && issue.column >= 1, formatIssue(issue));
      assert.ok(issue.message.length > 10, formatIssue(issue));
    }
    if (result.scenario) {
      const step = result.scenario.steps[0] as ActionStep;
      assert.ok(step.tags || step.attributes || step.richMenu, 'a valid action does something');
      assert.notEqual(describeAction(step), '');
    }
  },
);
