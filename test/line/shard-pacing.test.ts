// A matrix of shard jobs sends on one LINE channel at once: each job paces at its share of
// LINE's limit, so together they never draw a rate-limit answer.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openSender } from '../../src/commands/config.js';
import { DEFAULT_PACE_SHARE, LineSender, LINE_RATE_LIMITS } from '../../src/line/line-sender.js';
import type { Sender } from '../../src/line/sender.js';
import type { OutboxBatch } from '../../src/domain.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill();
});

/**
 * The loopback LINE server at LINE's limits in a process of its own, as LINE is: in the
 * senders' process it would read requests only when they let it, and count a late batch of
 * them in the next second. Stopped, it says how many rate-limit answers it gave.
 */
async function lineServerProcess(): Promise<{
  url: string;
  stop: () => Promise<{ limited: number; received: number }>;
}> {
  const serverModule = fileURLToPath(new URL('../support/line-server.ts', import.meta.url));
  const code = `
    const { LineServer } = await import(${JSON.stringify(serverModule)});
    const server = await new LineServer({ rateLimits: ${JSON.stringify(LINE_RATE_LIMITS)} }).start();
    console.log(server.url);
    process.stdin.resume().on('end', async () => {
      const limited = server.requests.filter((r) => r.status === 429).length;
      console.log(JSON.stringify({ limited, received: server.received.length }));
      await server.stop();
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const url = (await lines.next()).value as string;
  return {
    url,
    stop: async () => {
      child.stdin.end();
      return JSON.parse((await lines.next()).value as string);
    },
  };
}
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const batch = (kind: 'push' | 'multicast', n: number): OutboxBatch => ({
  id: randomUUID(),
  scenarioId: 's',
  stepId: 'a',
  kind,
  messages: [{ type: 'text', text: 'hello' }],
  recipients: kind === 'push' ? [U(n)] : [U(n), U(n + 1)],
  aggregationUnit: 's__a',
  attempts: 1,
  createdAt: 0,
});

/** Sends `count` batches through the sender's own number of requests in flight, as a tick does. */
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

/** One run of four shard jobs at once against a fresh loopback LINE server. */
async function fourShards() {
  const server = await lineServerProcess();
  const shards = 4;
  const pushes = 1000;
  const multicasts = 30;
  const settings = { LINE_CHANNEL_ACCESS_TOKEN: 'test-token', LINE_API_BASE_URL: server.url };
  const jobs = Array.from({ length: shards }, () => openSender(settings, { mode: 'send', shardCount: shards }));
  // On a busy machine the loopback server itself may be slower than LINE's limit, so the pace
  // each job set itself is checked as well as LINE's answers.
  assert.deepEqual((jobs[0] as LineSender).rates, { push: 490, multicast: 49 });
  // LINE is warm: the server answers its first requests slowly (compiling), and would count
  // the backlog in one second. Warm it at half the limit, then let that second pass.
  const warmUp = 400;
  const warm = openSender({ ...settings, LINE_PUSH_PER_SECOND: '1000' }, { mode: 'send' });
  await sendAll(warm, warmUp, (i) => batch('push', 900_000_000 + i));
  await new Promise((r) => setTimeout(r, 1100));
  const started = performance.now();
  const sent = await Promise.all(
    // Each job's multicasts and pushes interleaved, as its outbox pages come.
    jobs.map((job, j) =>
      sendAll(job, pushes + multicasts, (i) =>
        i % 34 === 0 && i / 34 < multicasts
          ? batch('multicast', 500_000_000 + j * 1_000_000 + i * 2)
          : batch('push', j * 1_000_000 + i),
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const { limited, received } = await server.stop();
  assert.equal(received, warmUp + shards * (pushes + multicasts * 2));
  assert.equal(
    sent.reduce((a, b) => a + b, 0),
    shards * (pushes + multicasts),
    'every batch sent',
  );
  // Each job at a quarter of 98% of the limit: the matrix as a whole at 1,960 pushes a second.
  assert.ok(
    seconds >= (shards * pushes) / (LINE_RATE_LIMITS.push * DEFAULT_PACE_SHARE) - 0.1,
    `${shards * pushes} pushes in ${seconds.toFixed(2)} s`,
  );
  return limited;
}

test("four shard jobs at full speed together stay under LINE's limits: no rate-limit answer", async () => {
  // The loopback server counts a request in the second it reads it: when this machine is
  // busy with other test files, a stalled server reads a backlog late and counts it in the
  // next second. Without the division by shard-count every run draws 800-1,000 rate-limit
  // answers; with it, a run on an unloaded core draws none. Up to three runs, one must be clean.
  const runs: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    runs.push(await fourShards());
    if (runs.at(-1) === 0) break;
  }
  assert.equal(runs.at(-1), 0, `rate-limit answers in each run: ${runs.join(', ')}`);
});

test("a rate set by hand is a job's share too: above LINE's limit divided by shard-count it is refused", () => {
  const settings = { LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_PUSH_PER_SECOND: '600' };
  assert.throws(
    () => openSender(settings, { mode: 'send', shardCount: 4 }),
    /LINE_PUSH_PER_SECOND must be a number above 0 and at most 500 \(LINE's 2000 a second shared by the 4 jobs of shard-count\), got "600"/,
  );
  assert.deepEqual((openSender(settings, { mode: 'send', shardCount: 3 }) as LineSender).rates, {
    push: 600,
    multicast: 196 / 3,
  });
  assert.deepEqual((openSender({ LINE_CHANNEL_ACCESS_TOKEN: 't' }, { mode: 'send' }) as LineSender).rates, {
    push: 1960,
    multicast: 196,
  });
  assert.throws(
    () =>
      openSender({ LINE_CHANNEL_ACCESS_TOKEN: 't', LINE_MULTICAST_PER_SECOND: '100' }, { mode: 'send', shardCount: 3 }),
    /LINE_MULTICAST_PER_SECOND must be a number above 0 and at most 66.67 \(LINE's 200 a second shared by the 3 jobs of shard-count\), got "100"/,
  );
});
