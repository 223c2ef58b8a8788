import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { formatJsonPath } from '../../src/scenario/json-source.js';
import { scenarioArb } from '../support/arbitraries.js';

const jsonSchema = new Ajv2020({ strict: false, validateFormats: false }).compile(scenarioJsonSchema());

const ALL_KINDS = ['message', 'branch', 'split', 'wait', 'action'] as const;

test.prop([scenarioArb({ kinds: [...ALL_KINDS] })], { numRuns: 300 })(
  'property: generated valid scenarios validate, and their JSON Schema accepts them',
  (scenario) => {
    const text = JSON.stringify(scenario, null, 2);
    const result = validateScenarioText('gen.json', text);
    assert.deepEqual(result.issues.map(formatIssue), []);
    assert.deepEqual(result.scenario, JSON.parse(text), 'validation keeps the scenario as written');
    assert.ok(jsonSchema(scenario), JSON.stringify(jsonSchema.errors));
  },
);

test.prop([scenarioArb({ kinds: [...ALL_KINDS] }), fc.nat()], { numRuns: 200 })(
  'property: a reference to a missing step is always reported at its path',
  (scenario, pick) => {
    const i = pick % scenario.steps.length;
    const step = scenario.steps[i]!;
    const broken = structuredClone(scenario);
    let path: string;
    const target = broken.steps[i]!;
    if (target.type === 'message' || target.type === 'action') {
      target.next = 'no-such-step';
      path = `$.steps[${i}].next`;
    } else if (target.type === 'branch') {
      target.default = 'no-such-step';
      path = `$.steps[${i}].default`;
    } else if (target.type === 'split') {
      target.arms[0]!.next = 'no-such-step';
      path = `$.steps[${i}].arms[0].next`;
    } else {
      target.onTimeout = 'no-such-step';
      path = `$.steps[${i}].onTimeout`;
    }
    const result = validateScenarioText('gen.json', JSON.stringify(broken));
    assert.equal(result.scenario, undefined, `${step.type} step accepted a broken reference`);
    assert.ok(result.issues.some((x) => x.rule === 'unknown-step' && formatJsonPath(x.path) === path));
  },
);

test.prop([fc.integer({ min: 1, max: 6000 }), fc.constantFrom('a', 'あ', '😀')], { numRuns: 200 })(
  'property: any text over 5,000 UTF-16 units is rejected, any up to it accepted',
  (n, ch) => {
    const text = ch
      .repeat(Math.ceil(n / ch.length))
      .slice(0, n)
      .replace(/[\uD800-\uDBFF]$/, 'a');
    const scenario = {
      id: 'x',
      version: 1,
      entry: { trigger: { type: 'follow' } },
      steps: [{ id: 'a', type: 'message', messages: [{ type: 'text', text }] }],
    };
    const ok = validateScenarioText('t.json', JSON.stringify(scenario)).issues.length === 0;
    assert.equal(ok, text.length <= 5000);
  },
);
