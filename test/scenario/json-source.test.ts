// The positional JSON parser: the same values as JSON.parse, and each value's position is
// where its text starts (an object member: where its key starts).
import { test } from '@fast-check/vitest';
import { test as plainTest } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonSyntaxError, parseJsonWithPositions, type JsonPath } from '../../src/scenario/json-source.js';

/** Every path of a value, with the value there. */
function paths(value: unknown, path: JsonPath = []): [JsonPath, unknown][] {
  const here: [JsonPath, unknown][] = [[path, value]];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...path, i]))];
  if (value !== null && typeof value === 'object')
    return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...path, k]))];
  return here;
}

const offsetOf = (text: string, line: number, column: number) => {
  const lines = text.split('\n');
  return lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
};

test.prop([fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(0, 1, 2, '\t')], { numRuns: 300 })(
  'property: the value is what JSON.parse gives, and each position points at its value (or key)',
  (value, indent) => {
    const text = JSON.stringify(value, null, indent);
    const parsed = parseJsonWithPositions(text);
    assert.deepEqual(parsed.value, JSON.parse(text));
    for (const [path, v] of paths(JSON.parse(text))) {
      const { line, column } = parsed.positionOf(path);
      const rest = text.slice(offsetOf(text, line, column));
      const last = path.at(-1);
      const expected = typeof last === 'string' ? JSON.stringify(last) : JSON.stringify(v, null, indent).slice(0, 1);
      assert.ok(rest.startsWith(expected), `${JSON.stringify(path)} at ${line}:${column}: ${rest.slice(0, 20)}`);
    }
  },
);

plainTest('syntax errors say where and what to do; "__proto__" is an own property as JSON.parse makes it', () => {
  const cases: [string, RegExp, number][] = [
    ['{\n  "a": 1,\n}', /trailing comma before }/, 3],
    ['[1,\n 2,\n]', /trailing comma before ]/, 3],
    ['{"a": 1 "b": 2}', /is a comma missing between properties/, 1],
    ['{"a": 1, "a": 2}', /duplicate property "a"/, 1],
    ['{"a": "x\ny"}', /a string cannot span lines/, 1],
    ['{"a": tru}', /unexpected character "t"/, 1],
    ['{"a": 1} x', /unexpected text after the end/, 1],
    ['', /unexpected end of file/, 1],
  ];
  for (const [text, says, line] of cases) {
    assert.throws(
      () => parseJsonWithPositions(text),
      (e: unknown) => e instanceof JsonSyntaxError && says.test(e.message) && e.position.line === line,
      text,
    );
  }
  const parsed = parseJsonWithPositions('{"__proto__": {"x": 1}}').value as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['__proto__']);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
});
