// The README tells what the action takes: its tables of inputs and outputs are generated
// from action.yml (npm run docs), and every input the action reads is in action.yml.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseActionYml, readmeWithActionTables } from '../../scripts/action-docs.mjs';

const readme = readFileSync('README.md', 'utf8');
const yml = readFileSync('action.yml', 'utf8');

test("the README's tables of inputs and outputs are what action.yml says (run npm run docs)", () => {
  assert.equal(readme, readmeWithActionTables(readme, yml));
});

test('every input the action reads is declared in action.yml, with a description', () => {
  const declared = new Map(parseActionYml(yml).inputs.map((i) => [i.name, i]));
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
    );
  const read = new Set<string>();
  for (const f of files('src')) {
    for (const m of readFileSync(f, 'utf8').matchAll(
      /\b(?:getInput|getBooleanInput|getMultilineInput|input|booleanInput|numberInput)\(\s*'([a-z0-9-]+)'/g,
    ))
      read.add(m[1]!);
  }
  assert.ok(read.size > 10, `found the inputs the action reads (${[...read].join(', ')})`);
  for (const name of read) {
    assert.ok(declared.has(name), `src reads the input "${name}", which action.yml does not declare`);
    assert.ok(declared.get(name)!.description, `action.yml: input "${name}" has no description`);
  }
});
