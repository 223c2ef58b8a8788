import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { testSend } from '../../src/commands/test-send.js';
import { LineSender } from '../../src/line/line-sender.js';
import { LineServer } from '../support/line-server.js';

const { scenarios } = await loadScenarioDir('scenarios');
const cart = scenarios.find((s) => s.scenario.id === 'cart-abandoned')!.compiled;

test('test-send pushes every message step, rendered with sample data and marked as a test', async () => {
  const server = await new LineServer().start();
  const staff = `U${'f'.repeat(32)}`;
  const sender = new LineSender({ channelAccessToken: server.token, baseURL: server.url });
  const r = await testSend({
    compiled: cart,
    recipients: [staff],
    sample: { trigger: { productName: 'サンプル商品' } },
    sender,
  });
  assert.deepEqual(
    r.steps.map((s) => [s.stepId, s.outcome]),
    [
      ['reminder', 'sent'],
      ['price-drop-notice', 'sent'],
      ['coupon', 'sent'],
    ],
  );
  const inbox = server.inbox(staff) as { type: string; text: string }[][];
  assert.equal(inbox[0]![0]!.text, '[TEST] cart-abandoned / reminder');
  assert.match(inbox[0]![1]!.text, /「サンプル商品」/);
  assert.match(inbox[2]![1]!.text, /https:\/\/shop\.example\.com\/cart/, 'the fallback fills a missing sample');
  await assert.rejects(testSend({ compiled: cart, recipients: ['someone'], sender }), /not LINE user ids/);
  // LINE's ids are lowercase: one in capitals would make LINE refuse the request.
  await assert.rejects(
    testSend({ compiled: cart, recipients: [`U${'F'.repeat(32)}`], sender }),
    /1 test recipient\(s\) are not LINE user ids/,
  );
  await assert.rejects(
    testSend({ compiled: cart, stepId: 'nope', recipients: [staff], sender }),
    /no message step "nope"/,
  );
  await server.stop();
});
