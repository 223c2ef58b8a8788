// The example workflows are what a user copies: every input they pass is one the action
// declares, they name the action as OWNER/line-step-delivery@v1 (the one documented edit),
// and every secret they read is one the README's setup tells the user to create.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parseActionYml } from '../../scripts/action-docs.mjs';

const inputs = new Set(parseActionYml(readFileSync('action.yml', 'utf8')).inputs.map((i) => i.name));
const readme = readFileSync('README.md', 'utf8');
const examples = readdirSync('examples/workflows').filter((f) => f.endsWith('.yml'));

test('the example workflows pass only inputs the action declares, and name the action one way', () => {
  assert.ok(examples.includes('step-delivery.yml') && examples.includes('scenarios.yml'));
  for (const file of examples) {
    const text = readFileSync(`examples/workflows/${file}`, 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const uses = /^\s*-?\s*uses:\s*(\S+)/.exec(line)?.[1];
      if (!uses || uses.startsWith('actions/')) return;
      assert.equal(uses, 'OWNER/line-step-delivery@v1', `${file}:${i + 1}`);
      // The with: block of this step: the lines indented under it.
      const indent = /^\s*/.exec(lines[i + 1] ?? '')![0].length;
      for (let j = i + 2; j < lines.length; j++) {
        const key = new RegExp(`^ {${indent + 2}}([a-z0-9-]+):`).exec(lines[j]!)?.[1];
        if (/^\s*#/.test(lines[j]!) || lines[j]!.trim() === '') continue;
        if (/^\s*/.exec(lines[j]!)![0].length <= indent) break;
        if (key) assert.ok(inputs.has(key), `${file}:${j + 1}: "${key}" is not an input of action.yml`);
      }
    });
    for (const m of text.matchAll(/secrets\.([A-Z_]+)/g)) {
      assert.ok(readme.includes(m[1]!), `${file} reads the secret ${m[1]}, which the README does not mention`);
    }
  }
});
