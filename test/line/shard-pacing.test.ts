// A matrix of shard jobs sends on one LINE channel at once: each job paces at its share of
// LINE's limit, so together they never draw a rate-limit answer.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openSender } from '../../src/config.js';
import { LineSender, LINE_RATE_LIMITS } from '../../src/line/line-sender.js';
import type { Sender } from '../../src/line/sender.js';
import type { OutboxBatch } from '../../src/store/store.js';
import { LineServer } from '../support/line-server.js';

const servers: LineServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const batch = (kind: 'push' | 'multicast', n: number): OutboxBatch => ({
  id: randomUUID(), scenario_id: 's', step_id: 'a', kind, messages: [{ type: 'text', text: 'hello' }],
  recipients: kind === 'push' ? [U(n)] : [U(n), U(n + 1)], aggregation_unit: 's__a', attempts: 1, created_at: 0,
});

/** Sends `count` batches through the sender's own number of requests in flight. */
async function sendAll(sender: Sender, count: number, make: (i: number) => OutboxBatch): Promise<number> {
  let next = 0;
  let sent = 0;
  await Promise.all(
    Array.from({ length: sender.concurrency ?? 1 }, async () => {
      while (next < count) if ((await sender.send(make(next++))).outcome === 'sent') sent++;
    }),
  );
  return sent;
}

test('four shard jobs at full speed together stay under LINE\'s limits: no rate-limit answer', async () => {
  const server = await new LineServer({ rateLimits: { push: LINE_RATE_LIMITS.push, multicast: LINE_RATE_LIMITS.multicast } }).start();
  servers.push(server);
  const shards = 4;
  const pushes = 1000;
  const multicasts = 30;
  const settings = { LINE_CHANNEL_ACCESS_TOKEN: server.token, LINE_API_BASE_URL: server.url };
  const jobs = Array.from({ length: shards }, () => openSender(settings, { dryRun: false, requireToken: true, shardCount: shards }));
  // On a busy machine the loopback server itself may be slower than LINE's limit, so the pace
  // each job set itself is checked as well as LINE's answers.
  assert.deepEqual((jobs[0] as LineSender).rates, { push: 475, multicast: 47.5 });
  const started = performance.now();
  const sent = await Promise.all(
    jobs.flatMap((job, j) => [
      sendAll(job, pushes, (i) => batch('push', j * 1_000_000 + i)),
      sendAll(job, multicasts, (i) => batch('multicast', 500_000_000 + j * 1_000_000 + i * 2)),
    ]),
  );
  const seconds = (performance.now() - started) / 1000;
  const limited = server.requests.filter((r) => r.status === 429).length;
  assert.equal(limited, 0, `${limited} rate-limit answers`);
  assert.equal(sent.reduce((a, b) => a + b, 0), shards * (pushes + multicasts), 'every batch sent');
  // Each job at a quarter of 95% of the limit: the matrix as a whole at 1,900 pushes a second.
  assert.ok(seconds >= (shards * pushes) / (LINE_RATE_LIMITS.push * 0.95) - 0.1, `${shards * pushes} pushes in ${seconds.toFixed(2)} s`);
});

test('a rate set by hand is a job\'s share too: above LINE\'s limit divided by shard-count it is refused', () => {
  const settings = { LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_PUSH_PER_SECOND: '600' };
  assert.throws(
    () => openSender(settings, { dryRun: false, requireToken: true, shardCount: 4 }),
    /LINE_PUSH_PER_SECOND must be a number above 0 and at most 500 \(LINE's 2000 a second shared by the 4 jobs of shard-count\), got "600"/,
  );
  assert.deepEqual((openSender(settings, { dryRun: false, requireToken: true, shardCount: 3 }) as LineSender).rates, { push: 600, multicast: 190 / 3 });
  assert.deepEqual((openSender({ LINE_CHANNEL_ACCESS_TOKEN: 't' }, { dryRun: false, requireToken: true }) as LineSender).rates, { push: 1900, multicast: 190 });
  assert.throws(
    () => openSender({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_MULTICAST_PER_SECOND: '100' }, { dryRun: false, requireToken: true, shardCount: 3 }),
    /LINE_MULTICAST_PER_SECOND must be a number above 0 and at most 66.67 \(LINE's 200 a second shared by the 3 jobs of shard-count\), got "100"/,
  );
});
