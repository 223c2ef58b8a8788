// The LINE sender through the real @line/bot-sdk against the loopback LINE server.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LineSender } from '../../src/line/line-sender.js';
import type { OutboxBatch } from '../../src/domain.js';
import { LineServer } from '../support/line-server.js';
import { openSender } from '../../src/commands/config.js';

const servers: LineServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});
async function line(options: ConstructorParameters<typeof LineServer>[0] = {}) {
  const server = await new LineServer(options).start();
  servers.push(server);
  return server;
}
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const batch = (over: Partial<OutboxBatch> = {}): OutboxBatch => ({
  id: randomUUID(),
  scenarioId: 's',
  stepId: 'a',
  kind: 'multicast',
  messages: [{ type: 'text', text: 'hello' }],
  recipients: [U(1), U(2), U(3)],
  aggregationUnit: 's__a',
  attempts: 1,
  createdAt: 0,
  ...over,
});
const sender = (server: LineServer, over: Partial<ConstructorParameters<typeof LineSender>[0]> = {}) =>
  new LineSender({ channelAccessToken: server.token, baseURL: server.url, backoffMs: 5, timeoutMs: 300, ...over });

test("a multicast carries the batch id as X-Line-Retry-Key and the step's aggregation unit", async () => {
  const server = await line();
  const b = batch();
  const report = await sender(server).send(b);
  assert.equal(report.outcome, 'sent');
  assert.ok(report.requestId);
  assert.deepEqual(
    server.received.map((r) => [r.to, r.retryKey, r.aggregationUnits]),
    b.recipients.map((to) => [to, b.id, ['s__a']]),
  );
});

test('a resend of an accepted batch is answered 409 and counted as sent, not delivered twice', async () => {
  const server = await line();
  const b = batch();
  const first = await sender(server).send(b);
  const again = await sender(server).send(b);
  assert.equal(again.outcome, 'sent');
  assert.equal(again.requestId, first.requestId, 'the accepted request id from x-line-accepted-request-id');
  assert.equal(server.received.length, 3);
  assert.deepEqual(
    server.requests.map((r) => r.status),
    [200, 409],
  );
});

test('5xx, a dropped connection and a timeout after acceptance are retried with the same key; each user gets it once', async () => {
  const server = await line();
  server.faults.push({ kind: 'status', status: 500 }, { kind: 'drop' }, { kind: 'accept-then-drop' });
  const b = batch();
  const report = await sender(server).send(b);
  assert.equal(report.outcome, 'sent');
  assert.deepEqual(
    server.requests.map((r) => r.status),
    [500, 0, 200, 409],
  );
  assert.ok(server.requests.every((r) => r.retryKey === b.id));
  assert.equal(server.received.length, 3, 'delivered once');
});

test('a slow answer past the timeout is retried; LINE answers 409 because the first was accepted', async () => {
  const server = await line();
  server.faults.push({ kind: 'delay', ms: 800 });
  const report = await sender(server, { timeoutMs: 300, backoffMs: 300 }).send(
    batch({ kind: 'push', recipients: [U(9)] }),
  );
  assert.equal(report.outcome, 'sent');
  await new Promise((r) => setTimeout(r, 900)); // the slow first attempt reaches LINE too
  // Whichever attempt LINE accepted first, the other is answered 409: one delivery.
  assert.ok(
    server.requests.some((r) => r.status === 409),
    JSON.stringify(server.requests),
  );
  assert.equal(server.requests.filter((r) => r.status === 200).length, 1);
  assert.equal(server.received.length, 1);
});

test('a rate-limit 429 slows down and retries; the monthly-limit 429 stops sending', async () => {
  const server = await line({ monthlyLimit: 4 });
  server.faults.push({
    kind: 'status',
    status: 429,
    body: { message: 'The API rate limit has been exceeded. Try again later.' },
  });
  const s = sender(server);
  assert.equal((await s.send(batch())).outcome, 'sent');
  const over = await s.send(batch());
  assert.deepEqual(
    [over.outcome, over.stop, over.error?.message],
    ['deferred', 'monthly_limit', 'You have reached your monthly limit.'],
  );
  assert.deepEqual(await s.quota(), { limit: 4, used: 3 });
});

test("400 fails the batch with LINE's message and details; 401 stops the tick; retries run out as uncertain", async () => {
  const server = await line();
  const bad = await sender(server).send(batch({ recipients: [U(1), 'not-a-user'] }));
  assert.equal(bad.outcome, 'failed');
  assert.equal(bad.error?.status, 400);
  assert.match(bad.error.message, /1 error/);
  assert.deepEqual((bad.error?.details as { property: string }[])[0]?.property, 'to');
  const unauthorized = await new LineSender({ channelAccessToken: 'wrong', baseURL: server.url }).send(batch());
  assert.deepEqual([unauthorized.outcome, unauthorized.stop], ['deferred', 'unauthorized']);
  server.faults.push(...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 503 })));
  const down = await sender(server).send(batch());
  assert.equal(down.outcome, 'uncertain', 'LINE may have accepted one of them: the outbox keeps it pending');
});

test("LINE_PUSH_PER_SECOND paces pushes below LINE's limit; a rate above the limit is refused, naming the setting", async () => {
  const server = await line();
  const paced = openSender(
    {
      LINE_CHANNEL_ACCESS_TOKEN: server.token,
      LINE_API_BASE_URL: server.url,
      LINE_PUSH_PER_SECOND: '40',
      LINE_REQUESTS_IN_FLIGHT: '8',
    },
    { mode: 'send' },
  );
  assert.equal(paced.concurrency, 8);
  const reports = await Promise.all(
    Array.from({ length: 20 }, (_, i) => paced.send(batch({ kind: 'push', recipients: [U(100 + i)] }))),
  );
  assert.ok(reports.every((r) => r.outcome === 'sent'));
  const at = server.requests.map((r) => r.at).sort((a, b) => a - b);
  // 20 requests at 40 a second are spread over at least 19/40 s (unpaced, they arrive within a few ms).
  assert.ok(at.at(-1)! - at[0]! >= 450, `20 pushes arrived within ${at.at(-1)! - at[0]!} ms`);
  assert.throws(
    () => openSender({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_PUSH_PER_SECOND: '2500' }, { mode: 'send' }),
    /LINE_PUSH_PER_SECOND must be a number above 0 and at most 2000, got "2500"/,
  );
  assert.throws(
    () => openSender({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_REQUESTS_IN_FLIGHT: 'many' }, { mode: 'send' }),
    /LINE_REQUESTS_IN_FLIGHT/,
  );
});
