// Tracked links: {{link.x}} renders a signed URL of the click function for each user.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { compileScenario } from '../../src/scenario/compile.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { clickSignature, makeLinkSigner } from '../../src/planner/links.js';
import { renderMessages } from '../../src/planner/render.js';
import { baseScenario, toText } from '../support/scenarios.js';

const USER = `U${'4af4980629'.padEnd(32, '0')}`;
const step = {
  id: 'coupon',
  type: 'message',
  links: { coupon: 'https://shop.example.com/c/WELCOME10' },
  messages: [{ type: 'text', text: 'クーポン: {{link.coupon}}' }],
};

test('a tracked link is signed for the user, as the click function checks it', () => {
  assert.equal(
    clickSignature('click-secret', USER, 'coupon', 'https://shop.example.com/c/WELCOME10'),
    'c5a28a2541dc8a4ff327c88fc260d652',
    'the same vector as the Deno test of the click function',
  );
  const compiled = compileScenario(baseScenario({ steps: [step] } as never));
  const cs = compiled.steps.get('coupon')!;
  assert.equal(cs.uniform, false, 'a tracked link makes the step personal');
  const signer = makeLinkSigner('https://ref.supabase.co/functions/v1/click', 'click-secret');
  const r = renderMessages(cs, { attributes: {}, answers: {}, trigger: {}, userId: USER, linkSigner: signer });
  assert.ok('messages' in r);
  const text = (r.messages[0] as { text: string }).text;
  const url = new URL(text.replace('クーポン: ', ''));
  assert.deepEqual(
    [
      url.origin + url.pathname,
      url.searchParams.get('u'),
      url.searchParams.get('l'),
      url.searchParams.get('to'),
      url.searchParams.get('s'),
    ],
    [
      'https://ref.supabase.co/functions/v1/click',
      USER,
      'coupon',
      'https://shop.example.com/c/WELCOME10',
      'c5a28a2541dc8a4ff327c88fc260d652',
    ],
  );
  const plain = renderMessages(cs, { attributes: {}, answers: {}, trigger: {}, userId: USER });
  assert.ok(
    'messages' in plain &&
      (plain.messages[0] as { text: string }).text === 'クーポン: https://shop.example.com/c/WELCOME10',
    'without the click settings, the plain URL',
  );
});

test('a link placeholder needs the link in the step', () => {
  const broken = validateScenarioText('x.json', toText(baseScenario({ steps: [{ ...step, links: {} }] } as never)));
  assert.match(broken.issues[0]!.message, /this step has no link "coupon"/);
});
