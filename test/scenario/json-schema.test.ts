import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { format } from 'prettier';
import { formatJson, scenarioJsonSchemaText } from '../../src/scenario/json-schema.js';

const prettierJson = (text: string) => format(text, { parser: 'json', printWidth: 120 });

test('the generated scenario schema is laid out as prettier lays it out (the format check passes on it)', async () => {
  const text = scenarioJsonSchemaText();
  assert.equal(await prettierJson(text), text);
});

// Values as a schema holds them: prettier rewrites exponents such as 1e+21 and fills long
// lists of numbers line by line, which a schema does not have.
const schemaLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 40 }),
    fc.integer({ min: -1000, max: 1000 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 12 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

propTest.prop([schemaLike], { numRuns: 500 })(
  'property: formatJson gives back the same value, in prettier layout',
  async (value) => {
    const text = `${formatJson(value)}\n`;
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    assert.equal(await prettierJson(text), text);
  },
);
