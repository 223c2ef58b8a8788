// One broken scenario per rule: each must be caught, at the right JSON path and line,
// with a message that says how to fix it.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import { formatIssue, type Rule } from '../../src/scenario/issues.js';
import { formatJsonPath } from '../../src/scenario/json-source.js';
import { baseScenario, toText } from '../support/scenarios.js';

interface Case {
  name: string;
  scenario: unknown;
  rule: Rule;
  path: string;
  says: RegExp;
}

const s = baseScenario;
const msg = (text: string) => ({ type: 'text', text });

const CASES: Case[] = [
  {
    name: 'unknown property, with the nearest name',
    scenario: { ...s(), steps: [{ id: 'a', type: 'message', wiat: { after: { days: 1 } }, messages: [msg('x')] }] },
    rule: 'unknown-property',
    path: '$.steps[0]',
    says: /unknown property "wiat".*Did you mean "wait"/,
  },
  {
    name: 'unknown trigger type',
    scenario: s({ entry: { trigger: { type: 'folow' } } } as never),
    rule: 'schema',
    path: '$.entry.trigger.type',
    says: /"folow" is not known: use one of "follow".*Did you mean "follow"/,
  },
  {
    name: 'unknown message type',
    scenario: s({ steps: [{ id: 'a', type: 'message', messages: [{ type: 'txt', text: 'x' }] }] } as never),
    rule: 'schema',
    path: '$.steps[0].messages[0].type',
    says: /Did you mean "text"/,
  },
  {
    name: 'missing required property',
    scenario: {
      id: 'x',
      entry: { trigger: { type: 'follow' } },
      steps: [{ id: 'a', type: 'message', messages: [msg('x')] }],
    },
    rule: 'schema',
    path: '$.version',
    says: /required property is missing/,
  },
  {
    name: 'text over 5,000 characters',
    scenario: s({ steps: [{ id: 'a', type: 'message', messages: [msg('あ'.repeat(5001))] }] } as never),
    rule: 'schema',
    path: '$.steps[0].messages[0].text',
    says: /at most 5000 characters.*split it/,
  },
  {
    name: 'more than 5 messages in a step',
    scenario: s({
      steps: [{ id: 'a', type: 'message', messages: Array.from({ length: 6 }, () => msg('x')) }],
    } as never),
    rule: 'schema',
    path: '$.steps[0].messages',
    says: /at most 5 message objects.*split this step/,
  },
  {
    name: 'more than 13 quick replies',
    scenario: s({
      steps: [
        {
          id: 'a',
          type: 'message',
          messages: [
            {
              type: 'text',
              text: 'x',
              quickReply: {
                items: Array.from({ length: 14 }, () => ({
                  type: 'action',
                  action: { type: 'message', label: 'a', text: 'a' },
                })),
              },
            },
          ],
        },
      ],
    } as never),
    rule: 'schema',
    path: '$.steps[0].messages[0].quickReply.items',
    says: /at most 13 quick reply/,
  },
  {
    name: 'template altText over 400',
    scenario: s({
      steps: [
        {
          id: 'a',
          type: 'message',
          messages: [
            {
              type: 'template',
              altText: 'x'.repeat(401),
              template: {
                type: 'confirm',
                text: 'ok?',
                actions: [
                  { type: 'message', label: 'y', text: 'y' },
                  { type: 'message', label: 'n', text: 'n' },
                ],
              },
            },
          ],
        },
      ],
    } as never),
    rule: 'schema',
    path: '$.steps[0].messages[0].altText',
    says: /at most 400/,
  },
  {
    name: 'image over plain http',
    scenario: s({
      steps: [
        {
          id: 'a',
          type: 'message',
          messages: [
            { type: 'image', originalContentUrl: 'http://x.example/a.jpg', previewImageUrl: 'https://x.example/a.jpg' },
          ],
        },
      ],
    } as never),
    rule: 'schema',
    path: '$.steps[0].messages[0].originalContentUrl',
    says: /HTTPS/,
  },
  {
    name: 'duplicate step id',
    scenario: s({
      steps: [
        { id: 'a', type: 'message', messages: [msg('x')] },
        { id: 'a', type: 'message', messages: [msg('y')] },
      ],
    } as never),
    rule: 'duplicate-step',
    path: '$.steps[1].id',
    says: /already used by steps\[0\]/,
  },
  {
    name: '"end" as a step id',
    scenario: s({ steps: [{ id: 'end', type: 'message', messages: [msg('x')] }] } as never),
    rule: 'reserved-step-id',
    path: '$.steps[0].id',
    says: /rename the step/,
  },
  {
    name: 'unknown step, with the nearest id',
    scenario: s({ steps: [{ id: 'coupon', type: 'message', messages: [msg('x')], next: 'cupon' }] } as never),
    rule: 'unknown-step',
    path: '$.steps[0].next',
    says: /no step "cupon". Did you mean "coupon"/,
  },
  {
    name: 'unreachable step',
    scenario: s({
      steps: [
        { id: 'a', type: 'message', messages: [msg('x')], next: 'end' },
        { id: 'b', type: 'message', messages: [msg('y')] },
      ],
    } as never),
    rule: 'unreachable-step',
    path: '$.steps[1]',
    says: /no path leads to step "b"/,
  },
  {
    name: 'loop with no delay',
    scenario: s({
      steps: [
        { id: 'a', type: 'message', messages: [msg('x')] },
        { id: 'b', type: 'branch', branches: [{ when: { event: 'purchased' }, next: 'end' }], default: 'a' },
      ],
    } as never),
    rule: 'loop-without-delay',
    path: '$.steps[0]',
    says: /a → b → a.*give one of them a "wait"/,
  },
  {
    name: 'branch with no default',
    scenario: s({
      steps: [{ id: 'b', type: 'branch', branches: [{ when: { field: 'user.gender', eq: 'female' }, next: 'end' }] }],
    } as never),
    rule: 'branch-without-default',
    path: '$.steps[0]',
    says: /add "default"/,
  },
  {
    name: 'comparison with two operators',
    scenario: s({
      steps: [
        {
          id: 'b',
          type: 'branch',
          branches: [{ when: { field: 'user.age', gte: 20, lt: 30 }, next: 'end' }],
          default: 'end',
        },
      ],
    } as never),
    rule: 'one-operator',
    path: '$.steps[0].branches[0].when',
    says: /split it with "all"/,
  },
  {
    name: 'bad condition shape',
    scenario: s({
      steps: [{ id: 'b', type: 'branch', branches: [{ when: { attribute: 'gender' }, next: 'end' }], default: 'end' }],
    } as never),
    rule: 'schema',
    path: '$.steps[0].branches[0].when',
    says: /not a valid condition: write \{"all"/,
  },
  {
    name: 'empty duration',
    scenario: s({ steps: [{ id: 'a', type: 'message', wait: { after: {} }, messages: [msg('x')] }] } as never),
    rule: 'empty-duration',
    path: '$.steps[0].wait.after',
    says: /needs days, hours or minutes/,
  },
  {
    name: 'before without a date',
    scenario: s({
      steps: [{ id: 'a', type: 'message', wait: { before: { hours: 24 } }, messages: [msg('x')] }],
    } as never),
    rule: 'timing',
    path: '$.steps[0].wait.before',
    says: /"from": "trigger.<date property>"/,
  },
  {
    name: 'at with hours',
    scenario: s({
      steps: [{ id: 'a', type: 'message', wait: { after: { hours: 3 }, at: '10:00' }, messages: [msg('x')] }],
    } as never),
    rule: 'timing',
    path: '$.steps[0].wait.at',
    says: /count the delay in days only/,
  },
  {
    name: 'bad time of day',
    scenario: s({
      steps: [{ id: 'a', type: 'message', wait: { after: { days: 1 }, at: '25:00' }, messages: [msg('x')] }],
    } as never),
    rule: 'schema',
    path: '$.steps[0].wait.at',
    says: /"HH:MM"/,
  },
  {
    name: 'trigger date on a follow trigger',
    scenario: s({
      entry: { trigger: { type: 'follow' } },
      steps: [
        { id: 'a', type: 'message', wait: { after: { days: 1 }, from: 'trigger.visitAt' }, messages: [msg('x')] },
      ],
    } as never),
    rule: 'trigger-date',
    path: '$.steps[0].wait.from',
    says: /follow trigger carries no dates/,
  },
  {
    name: 'unknown time zone',
    scenario: s({ timezone: 'Asia/Tokio' }),
    rule: 'timezone',
    path: '$.timezone',
    says: /Did you mean "Asia\/Tokyo"/,
  },
  {
    name: 'send window backwards',
    scenario: s({ sendWindow: { start: '21:00', end: '09:00' } }),
    rule: 'send-window',
    path: '$.sendWindow',
    says: /"start" must come before "end"/,
  },
  {
    name: 'unknown placeholder namespace',
    scenario: s({ steps: [{ id: 'a', type: 'message', messages: [msg('Hi {{usr.displayName}}')] }] } as never),
    rule: 'placeholder',
    path: '$.steps[0].messages[0].text',
    says: /Did you mean "user"/,
  },
  {
    name: 'unclosed placeholder',
    scenario: s({ steps: [{ id: 'a', type: 'message', messages: [msg('Hi {{user.displayName')] }] } as never),
    rule: 'placeholder',
    path: '$.steps[0].messages[0].text',
    says: /not closed/,
  },
  {
    name: 'trigger placeholder on a follow trigger',
    scenario: s({
      entry: { trigger: { type: 'follow' } },
      steps: [{ id: 'a', type: 'message', messages: [msg('{{trigger.productName}}')] }],
    } as never),
    rule: 'placeholder',
    path: '$.steps[0].messages[0].text',
    says: /has no properties/,
  },
  {
    name: 'split with one arm',
    scenario: s({ steps: [{ id: 'a', type: 'split', arms: [{ name: 'a', weight: 1, next: 'end' }] }] } as never),
    rule: 'schema',
    path: '$.steps[0].arms',
    says: /at least two arms/,
  },
  {
    name: 'wait with a zero timeout',
    scenario: s({
      steps: [{ id: 'w', type: 'wait', for: { event: 'purchased' }, timeout: { days: 0 }, onTimeout: 'end' }],
    } as never),
    rule: 'timing',
    path: '$.steps[0].timeout',
    says: /longer than zero/,
  },
  {
    name: 'bad aggregation unit',
    scenario: s({ steps: [{ id: 'a', type: 'message', aggregationUnit: 'has space', messages: [msg('x')] }] } as never),
    rule: 'schema',
    path: '$.steps[0].aggregationUnit',
    says: /A-Z, a-z, 0-9 and _/,
  },
];

for (const c of CASES) {
  test(`broken scenario: ${c.name}`, () => {
    const result = validateScenarioText('scenarios/broken.json', toText(c.scenario));
    assert.equal(result.scenario, undefined, 'a broken scenario is not returned');
    const found = result.issues.find((i) => i.rule === c.rule && formatJsonPath(i.path) === c.path);
    assert.ok(found, `expected ${c.rule} at ${c.path}, got:\n${result.issues.map(formatIssue).join('\n')}`);
    assert.match(found.message, c.says);
    console.log(`    ${formatIssue(found)}`);
  });
}

test('an issue names the line and column of the offending value', () => {
  const text = toText(
    baseScenario({
      steps: [{ id: 'a', type: 'message', messages: [{ type: 'text', text: 'x' }], next: 'nowhere' }],
    } as never),
  );
  const [issue] = validateScenarioText('scenarios/x.json', text).issues;
  const line = text.split('\n').findIndex((l) => l.includes('"next": "nowhere"')) + 1;
  assert.equal(issue?.line, line);
  assert.equal(issue?.column, text.split('\n')[line - 1]!.indexOf('"next"') + 1);
  assert.match(
    formatIssue(issue),
    new RegExp(`^scenarios/x.json:${line}:\\d+ \\$\\.steps\\[0\\]\\.next: there is no step "nowhere"`),
  );
});

test('JSON syntax errors name the line and say what to do', () => {
  const [trailing] = validateScenarioText('a.json', '{\n  "id": "x",\n  "version": 1,\n}\n').issues;
  assert.equal(trailing?.rule, 'json-syntax');
  assert.equal(trailing?.line, 4);
  assert.match(trailing.message, /trailing comma/);
  const [missing] = validateScenarioText('a.json', '{\n  "id": "x"\n  "version": 1\n}').issues;
  assert.equal(missing?.line, 3);
  assert.match(missing.message, /comma missing/);
  const [duplicate] = validateScenarioText('a.json', '{"id": "x", "id": "y"}').issues;
  assert.match(duplicate!.message, /duplicate property "id"/);
});

test('two files with the same scenario id: the second is reported', () => {
  const text = toText(baseScenario());
  const result = loadScenarioTexts([
    { file: 'a.json', text },
    { file: 'b.json', text },
  ]);
  assert.equal(result.scenarios.length, 1);
  assert.equal(result.issues[0]?.rule, 'duplicate-scenario');
  assert.equal(result.issues[0]?.file, 'b.json');
  assert.match(result.issues[0].message, /also used by a.json/);
});

test('every problem in a file is reported at once, not just the first', () => {
  const result = validateScenarioText(
    'a.json',
    toText(baseScenario({ timezone: 'Mars/Base', sendWindow: { start: '10:00', end: '10:00' } })),
  );
  assert.deepEqual(result.issues.map((i) => i.rule).sort(), ['send-window', 'timezone']);
});
