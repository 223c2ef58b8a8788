// "reply": true is taken only where the webhook can send the step the moment the follow
// arrives; anywhere else validation refuses it with the file, line, column and the fix.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateScenarioText } from '../../src/scenario/validate.js';

const welcome = (step: Record<string, unknown> = {}, scenario: Record<string, unknown> = {}) => ({
  id: 'welcome',
  version: 1,
  entry: { trigger: { type: 'follow' } },
  steps: [
    { id: 'hello', type: 'message', reply: true, messages: [{ type: 'text', text: 'ようこそ' }], ...step },
    { id: 'later', type: 'message', wait: { after: { days: 1 } }, messages: [{ type: 'text', text: 'Day 1' }] },
  ],
  ...scenario,
});

const issues = (value: unknown) =>
  validateScenarioText('scenarios/welcome.json', JSON.stringify(value, null, 2)).issues;

test('the first message step of a follow-triggered scenario, due at once, may go by reply', () => {
  assert.deepEqual(issues(welcome()), []);
  assert.deepEqual(issues(welcome({ sendWindow: null }, { sendWindow: { start: '09:00', end: '21:00' } })), []);
  assert.deepEqual(
    issues(
      welcome(
        {},
        { reentry: 'after_finish', entry: { trigger: { type: 'follow', route: 'qr', includeUnblocked: true } } },
      ),
    ),
    [],
  );
});

test.each([
  [
    'a later step',
    {
      steps: [
        { id: 'hello', type: 'message', messages: [{ type: 'text', text: 'a' }] },
        { id: 'two', type: 'message', reply: true, messages: [{ type: 'text', text: 'b' }] },
      ],
    },
    {},
    /only the first step/,
    1,
  ],
  ['an event trigger', {}, { entry: { trigger: { type: 'event', event: 'purchased' } } }, /trigger is "event"/, 0],
  ['a wait', { wait: { after: { hours: 1 } } }, {}, /remove "wait"/, 0],
  ['the scenario send window', {}, { sendWindow: { start: '09:00', end: '21:00' } }, /"sendWindow": null/, 0],
  [
    'tracked links',
    { links: { shop: 'https://example.com' }, messages: [{ type: 'text', text: '{{link.shop}}' }] },
    {},
    /tracked links/,
    0,
  ],
  ['re-entry restart', {}, { reentry: 'restart' }, /re-entry "restart"/, 0],
])('refused on %s, at the reply flag, with the fix', (_name, step, scenario, message, index) => {
  const value = welcome(step, scenario) as { steps: unknown[] } & Record<string, unknown>;
  if ('steps' in step) Object.assign(value, { steps: (step as { steps: unknown[] }).steps });
  const found = issues(value);
  assert.equal(found.length, 1, JSON.stringify(found));
  const [issue] = found;
  assert.equal(issue!.rule, 'reply');
  assert.deepEqual(issue!.path, ['steps', index, 'reply']);
  assert.equal(issue!.file, 'scenarios/welcome.json');
  assert.ok(issue!.line > 1 && issue!.column > 1, `${issue!.line}:${issue!.column}`);
  assert.match(issue!.message, message);
});
