// Writes the README's tables of the action's inputs and outputs from action.yml, between
// the markers <!-- action-inputs:start/end --> and <!-- action-outputs:start/end -->, so
// the README never drifts from what the action takes. `npm run docs` writes; a test fails
// when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs';

/** The inputs and outputs of action.yml (its flat layout: two-space names, four-space keys). */
export function parseActionYml(text) {
  const sections = { inputs: [], outputs: [] };
  let section;
  let current;
  for (const line of text.split('\n')) {
    const top = /^([a-z]+):/.exec(line);
    if (top) {
      section = sections[top[1]];
      current = undefined;
      continue;
    }
    if (!section) continue;
    const name = /^ {2}([a-z0-9-]+):\s*$/.exec(line);
    if (name) {
      current = { name: name[1] };
      section.push(current);
      continue;
    }
    const key = /^ {4}([a-z]+):\s*(.*)$/.exec(line);
    if (key && current) current[key[1]] = unquote(key[2]);
  }
  return sections;
}

function unquote(value) {
  if (/^".*"$/.test(value)) return JSON.parse(value);
  if (/^'.*'$/.test(value)) return value.slice(1, -1).replace(/''/g, "'");
  return value;
}

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/</g, '&lt;');

export function actionTables(yml) {
  const { inputs, outputs } = parseActionYml(yml);
  const inputRows = inputs.map(
    (i) =>
      `| \`${i.name}\` | ${cell(i.description ?? '')} | ${i.default !== undefined && i.default !== '' ? `\`${cell(i.default)}\`` : ''} |`,
  );
  const outputRows = outputs.map((o) => `| \`${o.name}\` | ${cell(o.description ?? '')} |`);
  return {
    inputs: ['| input | meaning | default |', '|---|---|---|', ...inputRows].join('\n'),
    outputs: ['| output | meaning |', '|---|---|', ...outputRows].join('\n'),
  };
}

function between(text, name, body) {
  const start = `<!-- action-${name}:start (generated from action.yml by npm run docs) -->`;
  const end = `<!-- action-${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} markers`);
  return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
}

/** The README with its action tables rewritten from action.yml. */
export function readmeWithActionTables(readme, yml) {
  const tables = actionTables(yml);
  return between(between(readme, 'inputs', tables.inputs), 'outputs', tables.outputs);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  writeFileSync(
    'README.md',
    readmeWithActionTables(readFileSync('README.md', 'utf8'), readFileSync('action.yml', 'utf8')),
  );
}
