// The action step (issue 18): each bad input is caught at its JSON path, line and column,
// with a message that says how to fix it; a good one validates, compiles and leads on.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { formatIssue, type Rule } from '../../src/scenario/issues.js';
import { formatJsonPath } from '../../src/scenario/json-source.js';
import { baseScenario, toText } from '../support/scenarios.js';
import { valueAt } from '../../src/scenario/zod-issues.js';

const msg = (text: string) => ({ type: 'text', text });
const withAction = (action: Record<string, unknown>) =>
  baseScenario({
    steps: [
      { id: 'act', type: 'action', ...action },
      { id: 'hello', type: 'message', messages: [msg('hi')] },
    ],
  } as never);

interface Case {
  name: string;
  action: Record<string, unknown>;
  rule: Rule;
  path: string;
  says: RegExp;
}

const CASES: Case[] = [
  {
    name: 'a tag over 50 characters',
    action: { tags: { add: ['x'.repeat(51)] } },
    rule: 'schema',
    path: '$.steps[0].tags.add[0]',
    says: /at most 50 characters: shorten it/,
  },
  {
    name: 'a tag with a control character',
    action: { tags: { remove: ['ok', 'new\tone'] } },
    rule: 'schema',
    path: '$.steps[0].tags.remove[1]',
    says: /no control characters/,
  },
  {
    name: 'an empty tag',
    action: { tags: { add: [''] } },
    rule: 'schema',
    path: '$.steps[0].tags.add[0]',
    says: /1-50 characters/,
  },
  {
    name: 'more than 20 tags in one list',
    action: { tags: { add: Array.from({ length: 21 }, (_, i) => `t${i}`) } },
    rule: 'schema',
    path: '$.steps[0].tags.add',
    says: /at most 20 tags per list: split the step in two/,
  },
  {
    name: 'an attribute name that is not an identifier',
    action: { attributes: { set: { 'plan-name': 'gold' } } },
    rule: 'schema',
    path: '$.steps[0].attributes.set["plan-name"]',
    says: /plain identifier/,
  },
  {
    name: 'an attribute the engine owns',
    action: { attributes: { set: { linked: true } } },
    rule: 'schema',
    path: '$.steps[0].attributes.set.linked',
    says: /belongs to the engine.*use "tags" for tags/,
  },
  {
    name: 'clearing an attribute the engine owns',
    action: { attributes: { clear: ['tags'] } },
    rule: 'schema',
    path: '$.steps[0].attributes.clear[0]',
    says: /belongs to the engine/,
  },
  {
    name: 'an attribute value over 1,000 characters',
    action: { attributes: { set: { note: 'x'.repeat(1001) } } },
    rule: 'schema',
    path: '$.steps[0].attributes.set.note',
    says: /at most 1000 characters/,
  },
  {
    name: 'an attribute value that is an object',
    action: { attributes: { set: { plan: { tier: 'gold' } } } },
    rule: 'schema',
    path: '$.steps[0].attributes.set.plan',
    says: /one plain value: a string, a number or true\/false, found object/,
  },
  {
    name: 'a malformed rich menu id',
    action: { richMenu: { id: 'richmenu-ABC' } },
    rule: 'schema',
    path: '$.steps[0].richMenu.id',
    says: /"richmenu-" and 32 lower-case hex digits/,
  },
  {
    name: 'an alias LINE would refuse',
    action: { richMenu: { alias: 'Member Menu' } },
    rule: 'schema',
    path: '$.steps[0].richMenu.alias',
    says: /1-32 characters of a-z, 0-9/,
  },
  {
    name: 'a misspelt rich menu form, with the nearest name',
    action: { richMenu: { alais: 'member-menu' } },
    rule: 'schema',
    path: '$.steps[0].richMenu',
    says: /unknown property "alais".*Did you mean "alias"/,
  },
  {
    name: 'two rich menu forms at once',
    action: { richMenu: { alias: 'member-menu', unlink: true } },
    rule: 'schema',
    path: '$.steps[0].richMenu',
    says: /give one of "id", "alias" or "unlink", not "alias" and "unlink"/,
  },
  {
    name: 'unlink false',
    action: { richMenu: { unlink: false } },
    rule: 'schema',
    path: '$.steps[0].richMenu',
    says: /"unlink" is true.*remove "richMenu"/,
  },
  {
    name: 'an action that does nothing',
    action: {},
    rule: 'action',
    path: '$.steps[0]',
    says: /does nothing: give it "tags", "attributes" or "richMenu"/,
  },
  {
    name: 'tags with neither add nor remove',
    action: { tags: {} },
    rule: 'action',
    path: '$.steps[0].tags',
    says: /give "add" or "remove"/,
  },
  {
    name: 'a tag both added and removed',
    action: { tags: { add: ['vip'], remove: ['new', 'vip'] } },
    rule: 'action',
    path: '$.steps[0].tags.remove[1]',
    says: /"vip" is also added by this step/,
  },
  {
    name: 'an attribute both set and cleared',
    action: { attributes: { set: { plan: 'gold' }, clear: ['plan'] } },
    rule: 'action',
    path: '$.steps[0].attributes.clear[0]',
    says: /"plan" is also set by this step/,
  },
  {
    name: 'a misspelt property of the step, with the nearest name',
    action: { tag: { add: ['vip'] } },
    rule: 'unknown-property',
    path: '$.steps[0]',
    says: /unknown property "tag".*Did you mean "tags"/,
  },
  {
    name: 'next names no step',
    action: { tags: { add: ['vip'] }, next: 'helo' },
    rule: 'unknown-step',
    path: '$.steps[0].next',
    says: /there is no step "helo". Did you mean "hello"/,
  },
];

for (const c of CASES) {
  test(`action step: ${c.name}`, () => {
    const text = toText(withAction(c.action));
    const result = validateScenarioText('scenarios/x.json', text);
    assert.equal(result.scenario, undefined, 'the file is refused');
    const issue = result.issues.find((i) => i.rule === c.rule && formatJsonPath(i.path) === c.path);
    assert.ok(issue, `no ${c.rule} issue at ${c.path}; got:\n${result.issues.map(formatIssue).join('\n')}`);
    assert.match(issue.message, c.says);
    // The line and column point into the file at the offending property.
    const line = text.split('\n')[issue.line - 1]!;
    const last = issue.path.at(-1);
    const element = valueAt(JSON.parse(text), issue.path);
    const expected =
      typeof last !== 'number' ? `"${last}"` : typeof element === 'object' ? '{' : JSON.stringify(element).slice(0, 20);
    assert.ok(line.includes(expected), `line ${issue.line} "${line.trim()}" is not at ${c.path}`);
    assert.equal(issue.column, line.indexOf(expected) + 1);
    assert.match(formatIssue(issue), /^scenarios\/x\.json:\d+:\d+ /);
  });
}

test('a good action step validates, compiles and leads to the next step in file order', () => {
  const scenario = withAction({
    tags: { add: ['vip', 'タグ'], remove: ['new'] },
    attributes: { set: { plan: 'gold', visits: 3, member: true }, clear: ['trial'] },
    richMenu: { alias: 'member-menu' },
  });
  const result = validateScenarioText('x.json', toText(scenario));
  assert.deepEqual(result.issues.map(formatIssue), []);
  const compiled = compileScenario(result.scenario!);
  assert.equal(compiled.steps.get('act')!.next, 'hello');
});

test('an action step nothing points at is unreachable, like any step', () => {
  const scenario = baseScenario({
    steps: [
      { id: 'hello', type: 'message', messages: [msg('hi')], next: 'end' },
      { id: 'act', type: 'action', tags: { add: ['vip'] } },
    ],
  } as never);
  const result = validateScenarioText('x.json', toText(scenario));
  assert.ok(result.issues.some((i) => i.rule === 'unreachable-step' && formatJsonPath(i.path) === '$.steps[1]'));
});

test('action steps alone in a loop make an instant loop; a wait on one breaks it', () => {
  const loop = (wait?: unknown) =>
    baseScenario({
      steps: [
        { id: 'a', type: 'action', tags: { add: ['x'] } },
        { id: 'b', type: 'action', tags: { remove: ['x'] }, next: 'a', ...(wait ? { wait } : {}) },
      ],
    } as never);
  const instant = validateScenarioText('x.json', toText(loop()));
  assert.ok(instant.issues.some((i) => i.rule === 'loop-without-delay'));
  const slow = validateScenarioText('x.json', toText(loop({ after: { days: 1 } })));
  assert.deepEqual(slow.issues.map(formatIssue), []);
});
