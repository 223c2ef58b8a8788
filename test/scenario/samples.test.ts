import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadScenarioDir, scenarioFiles } from '../../src/scenario/loader.js';
import { scenarioJsonSchemaText } from '../../src/scenario/json-schema.js';
import { formatIssue } from '../../src/scenario/issues.js';

const FLOWS = [
  'friend-welcome',
  'friend-from-ad',
  'cart-abandoned',
  'after-purchase',
  'trial-purchase',
  'after-shipment',
  'favorite-added',
  'reservation',
  'survey-answer',
  'offline-event-friend',
  'subscription',
  'vip-list',
  'linked-members',
  'interest-survey',
  'review-score',
];

test('every sample scenario validates', async () => {
  const result = await loadScenarioDir('scenarios');
  assert.deepEqual(result.issues.map(formatIssue), []);
  assert.deepEqual(result.scenarios.map((s) => s.scenario.id).sort(), [...FLOWS].sort());
});

test('every sample points its $schema at the generated schema, which accepts it', async () => {
  const schema = JSON.parse(await readFile('scenarios/scenario.schema.json', 'utf8'));
  const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  for (const file of await scenarioFiles('scenarios')) {
    const value = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(value.$schema, './scenario.schema.json', file);
    assert.ok(validate(value), `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

test('scenarios/scenario.schema.json is up to date (run: npm run cli -- schema)', async () => {
  assert.equal(await readFile('scenarios/scenario.schema.json', 'utf8'), scenarioJsonSchemaText());
});

test('the JSON Schema rejects what the language rejects at the schema level', async () => {
  const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(JSON.parse(scenarioJsonSchemaText()));
  assert.equal(validate({ id: 'x', version: 1, entry: { trigger: { type: 'follow' } }, steps: [] }), false);
  assert.equal(
    validate({
      id: 'x',
      version: 1,
      entry: { trigger: { type: 'folow' } },
      steps: [{ id: 'a', type: 'message', messages: [{ type: 'text', text: 'x' }] }],
    }),
    false,
  );
  assert.equal(
    validate({
      id: 'x',
      version: 1,
      entry: { trigger: { type: 'follow' } },
      steps: [{ id: 'a', type: 'message', messages: [{ type: 'text', text: 'x'.repeat(5001) }] }],
    }),
    false,
  );
});
