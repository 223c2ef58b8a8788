// LINE delivery throughput against the loopback LINE server set to LINE's rate limits:
// 100,000 recipients of one step (multicasts of 500) and 10,000 personalized pushes,
// each as achieved requests per second against the limit, and peak memory.
// Run: npm run bench -- line
import { randomUUID } from 'node:crypto';
import { LineSender, LINE_RATE_LIMITS } from '../src/line/line-sender.js';
import type { OutboxBatch } from '../src/store/store.js';
import { LineServer } from '../test/support/line-server.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;

async function sendAll(sender: LineSender, batches: OutboxBatch[]): Promise<{ seconds: number; failed: number }> {
  const queue = [...batches];
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: sender.concurrency }, async () => {
      for (let b = queue.shift(); b; b = queue.shift()) if ((await sender.send(b)).outcome !== 'sent') failed++;
    }),
  );
  return { seconds: (performance.now() - start) / 1000, failed };
}

/** The loopback LINE server in its own process, so it does not share the sender's CPU. */
export async function serveLine(): Promise<void> {
  const server = await new LineServer({ rateLimits: { push: LINE_RATE_LIMITS.push, multicast: LINE_RATE_LIMITS.multicast } }).start();
  process.stdout.write(`${server.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    const limited = server.requests.filter((r) => r.status === 429).length;
    process.stdout.write(`${JSON.stringify({ received: server.received.length, limited })}\n`);
    void server.stop().then(() => process.exit(0));
  });
}

export async function benchLine(): Promise<void> {
  const child = spawn(process.execPath, [process.argv[1]!, 'line-server'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  const url = (await iterator.next()).value as string;
  const server = { url, token: 'test-token' };
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const sender = new LineSender({ channelAccessToken: server.token, baseURL: server.url });
  const messages = [{ type: 'text' as const, text: '友だち限定クーポンです' }];

  const multicasts: OutboxBatch[] = Array.from({ length: 200 }, (_, i) => ({
    id: randomUUID(), scenario_id: 'bench', step_id: 'coupon', kind: 'multicast', messages, aggregation_unit: 'bench__coupon', attempts: 1, created_at: 0,
    recipients: Array.from({ length: 500 }, (_, j) => U(i * 500 + j + 1)),
  }));
  const m = await sendAll(sender, multicasts);
  const mRate = multicasts.length / m.seconds;
  console.log(`line: 100,000 recipients of one step: ${multicasts.length} multicasts in ${m.seconds.toFixed(2)} s = ${mRate.toFixed(0)} req/s, ${((mRate / LINE_RATE_LIMITS.multicast) * 100).toFixed(0)}% of LINE's ${LINE_RATE_LIMITS.multicast}/s (target ≥ 90%); ${m.failed} not sent`);

  const pushes: OutboxBatch[] = Array.from({ length: 10_000 }, (_, i) => ({
    id: randomUUID(), scenario_id: 'bench', step_id: 'named', kind: 'push', messages: [{ type: 'text' as const, text: `お客様${i}さん、カートに商品が残っています` }], aggregation_unit: 'bench__named', attempts: 1, created_at: 0,
    recipients: [U(200_000 + i)],
  }));
  const p = await sendAll(sender, pushes);
  const pRate = pushes.length / p.seconds;
  console.log(`  10,000 personalized pushes in ${p.seconds.toFixed(2)} s = ${pRate.toFixed(0)} req/s, ${((pRate / LINE_RATE_LIMITS.push) * 100).toFixed(0)}% of LINE's ${LINE_RATE_LIMITS.push}/s (target ≥ 90%); ${p.failed} not sent`);
  clearInterval(sample);
  child.stdin!.end();
  const stats = JSON.parse((await iterator.next()).value as string) as { received: number; limited: number };
  console.log(`  sender peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB; LINE received ${stats.received.toLocaleString('en')} messages and answered ${stats.limited} rate-limit 429s`);
}
