// Property (issue 27 item 1): a scenario with a hostile string at a random place (any
// string or property name of the sample scenarios: messages, alt texts, labels, tags,
// attribute names and values, routes, filters, conditions, fallbacks...) is either
// refused by validation, at a line of the file, or registered by the real PostgreSQL
// server. Never "valid" and then a tick that fails in registration.
import { afterAll, beforeAll } from 'vitest';
import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { scenarioFiles } from '../../src/scenario/loader.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { formatIssue } from '../../src/scenario/issues.js';
import type { Store } from '../../src/store/store.js';
import { serverStore } from '../support/db.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Place = { path: (string | number)[]; name: boolean };

const samples: Json[] = await Promise.all(
  (await scenarioFiles('scenarios')).map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Json),
);

/** Every string and every property name of a value, by path. */
function places(value: Json, path: (string | number)[] = [], out: Place[] = []): Place[] {
  if (typeof value === 'string') out.push({ path, name: false });
  else if (Array.isArray(value)) value.forEach((v, i) => places(v, [...path, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k !== '$schema') out.push({ path: [...path, k], name: true });
      places(v, [...path, k], out);
    }
  return out;
}

/** The value with the string (or name) at a place replaced by `change` of it. */
function changed(value: Json, place: Place, change: (s: string) => string): Json {
  const copy = structuredClone(value);
  const parentPath = place.path.slice(0, -1);
  const last = place.path.at(-1)!;
  let parent: Json = copy;
  for (const p of parentPath) parent = (parent as Record<string | number, Json>)[p]!;
  const holder = parent as Record<string | number, Json>;
  if (!place.name) {
    holder[last] = change(holder[last] as string);
    return copy;
  }
  // A renamed property keeps its place among the others.
  const entries = Object.entries(holder);
  for (const [k] of entries) delete holder[k];
  for (const [k, v] of entries)
    Object.defineProperty(holder, k === last ? change(k) : k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return copy;
}

const HOSTILE = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\u202e',
  '\u2066',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u00ad',
  '\u0301',
  'Ｖ',
  ' ',
  '\t',
  '__proto__',
  'constructor',
  '😀',
  '\\',
  '"',
];
const hostile = fc.record({
  sample: fc.nat({ max: samples.length - 1 }),
  place: fc.nat(),
  insert: fc.array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 3 }),
  at: fc.constantFrom('start', 'end', 'replace'),
});

let store: Store;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ store, drop } = await serverStore());
});
afterAll(async () => drop());

let n = 0;
test.prop([hostile], { numRuns: 300 })(
  'property: a hostile string anywhere in a scenario is refused at a line of its file, or the store registers it',
  async ({ sample, place, insert, at }) => {
    const base = samples[sample]!;
    const all = places(base);
    const chosen = all[place % all.length]!;
    const text = insert.join('');
    const scenario = changed(base, chosen, (s) => (at === 'start' ? text + s : at === 'end' ? s + text : text));
    const file = `hostile-${sample}.json`;
    const json = JSON.stringify(scenario, null, 2);
    const result = validateScenarioText(file, json);
    if (!result.scenario) {
      assert.ok(result.issues.length > 0);
      const lines = json.split('\n').length;
      for (const issue of result.issues) {
        assert.equal(issue.file, file);
        assert.ok(issue.line >= 1 && issue.line <= lines, formatIssue(issue));
      }
      return;
    }
    // Valid: the real server takes the definition (a scenario id of its own per run).
    const compiled = compileScenario({ ...result.scenario, id: `hostile-${n++}` });
    const registration = await store.registerScenarios(Date.now(), [
      { id: compiled.id, hash: compiled.hash, version: compiled.scenario.version, definition: compiled.scenario },
    ]);
    assert.deepEqual(
      registration.scenarios.map((s) => s.id),
      [compiled.id],
    );
  },
);

/** Every number of a value, by path. */
function numbers(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (typeof value === 'number') out.push(path);
  else if (Array.isArray(value)) value.forEach((v, i) => numbers(v, [...path, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) numbers(v, [...path, k], out);
  return out;
}
const HOSTILE_NUMBERS = [2_147_483_648, 2 ** 53 - 1, -1, 0, 1e308, -1e-308, 0.5, 1e21];

test.prop([fc.nat({ max: samples.length - 1 }), fc.nat(), fc.constantFrom(...HOSTILE_NUMBERS)], { numRuns: 200 })(
  'property: a hostile number anywhere in a scenario is refused, or the store registers it',
  async (sample, place, number) => {
    const base = samples[sample]!;
    const all = numbers(base);
    const path = all[place % all.length]!;
    const scenario = changed(base, { path, name: false }, () => number as unknown as string);
    const result = validateScenarioText('n.json', JSON.stringify(scenario, null, 2));
    if (!result.scenario) return;
    const compiled = compileScenario({ ...result.scenario, id: `hostile-${n++}` });
    await store.registerScenarios(Date.now(), [
      { id: compiled.id, hash: compiled.hash, version: compiled.scenario.version, definition: compiled.scenario },
    ]);
  },
);

/** Every value of a value, by path (the root excluded). */
function values(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (path.length) out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => values(v, [...path, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) if (k !== '$schema') values(v, [...path, k], out);
  return out;
}

test.prop([fc.nat({ max: samples.length - 1 }), fc.nat(), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' })], {
  numRuns: 300,
})(
  'property: any JSON value anywhere in a scenario: validation never throws, and what it takes the store registers',
  async (sample, place, replacement) => {
    const base = samples[sample]!;
    const all = values(base);
    const path = all[place % all.length]!;
    const scenario = changed(base, { path, name: false }, () => replacement as string);
    const result = validateScenarioText('any.json', JSON.stringify(scenario, null, 2));
    if (!result.scenario) return;
    const compiled = compileScenario({ ...result.scenario, id: `hostile-${n++}` });
    await store.registerScenarios(Date.now(), [
      { id: compiled.id, hash: compiled.hash, version: compiled.scenario.version, definition: compiled.scenario },
    ]);
  },
);

test('each class the property covers is refused where it is written, with the fix', () => {
  const cases: [string, RegExp][] = [
    ['hello\u0000', /NUL character.*remove the character/],
    ['hello\ud800', /lone UTF-16 surrogate/],
    ['he\u202ello', /bidi control \(U\+202E\).*remove it/],
  ];
  for (const [bad, says] of cases) {
    const scenario = changed(samples[0]!, { path: ['steps', 0, 'name'], name: false }, () => bad);
    const result = validateScenarioText('x.json', JSON.stringify(scenario, null, 2));
    const issue = result.issues.find((i) => i.rule === 'text');
    assert.ok(issue, `${JSON.stringify(bad)}: ${result.issues.map(formatIssue).join('; ')}`);
    assert.match(issue.message, says);
    assert.equal(formatIssue(issue).split(' ')[0], `x.json:${issue.line}:${issue.column}`);
  }
});
