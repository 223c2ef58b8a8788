// LINE delivery throughput against the loopback LINE server set to LINE's rate limits:
// 100,000 recipients of one step (multicasts of 500) and 10,000 personalized pushes,
// each as achieved requests per second against the limit, and peak memory; then the
// pushes again with a 100 ms round trip (a GitHub runner to LINE), by the sender alone
// and through a whole tick's send phase (outbox claimed from Postgres, answers recorded).
// Run: npm run bench -- line [postgres://... of a server where it may create a database]
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LineSender, LINE_RATE_LIMITS } from '../src/line/line-sender.js';
import type { OutboxBatch } from '../src/store/store.js';
import { Store } from '../src/store/store.js';
import { freshDatabase, serverUrl } from './database.js';
import { runTick } from '../src/tick.js';
import { LineServer } from '../test/support/line-server.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const ROUND_TRIP_MS = 100;

async function sendAll(sender: LineSender, batches: OutboxBatch[]): Promise<{ seconds: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: sender.concurrency }, async () => {
      while (next < batches.length) if ((await sender.send(batches[next++]!)).outcome !== 'sent') failed++;
    }),
  );
  return { seconds: (performance.now() - start) / 1000, failed };
}

/** The loopback LINE server in its own process, so it does not share the sender's CPU. */
export async function serveLine(latencyMs = 0): Promise<void> {
  const server = await new LineServer({ rateLimits: { push: LINE_RATE_LIMITS.push, multicast: LINE_RATE_LIMITS.multicast }, latencyMs }).start();
  process.stdout.write(`${server.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    const limited = server.requests.filter((r) => r.status === 429).length;
    process.stdout.write(`${JSON.stringify({ received: server.received.length, distinct: new Set(server.received.map((r) => r.to)).size, limited })}\n`);
    void server.stop().then(() => process.exit(0));
  });
}

/** The loopback LINE server in a child process; stop() returns what it received. */
export async function startLineServer(latencyMs = 0): Promise<{ url: string; stop: () => Promise<{ received: number; distinct: number; limited: number }> }> {
  const child = spawn(process.execPath, [process.argv[1]!, 'line-server', String(latencyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const iterator = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const url = (await iterator.next()).value as string;
  return {
    url,
    stop: async () => {
      child.stdin!.end();
      return JSON.parse((await iterator.next()).value as string);
    },
  };
}

const pushBatches = (n: number, from: number): OutboxBatch[] =>
  Array.from({ length: n }, (_, i) => ({
    id: randomUUID(), scenario_id: 'bench', step_id: 'named', kind: 'push', messages: [{ type: 'text' as const, text: `お客様${i}さん、カートに商品が残っています` }], aggregation_unit: 'bench__named', attempts: 1, created_at: 0,
    recipients: [U(from + i)],
  }));

const pct = (rate: number, limit: number) => `${((rate / limit) * 100).toFixed(0)}% of LINE's ${limit}/s`;

export async function benchLine(args: string[] = []): Promise<void> {
  const server = await startLineServer(0);
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const sender = new LineSender({ channelAccessToken: 'test-token', baseURL: server.url });
  const messages = [{ type: 'text' as const, text: '友だち限定クーポンです' }];

  const multicasts: OutboxBatch[] = Array.from({ length: 200 }, (_, i) => ({
    id: randomUUID(), scenario_id: 'bench', step_id: 'coupon', kind: 'multicast', messages, aggregation_unit: 'bench__coupon', attempts: 1, created_at: 0,
    recipients: Array.from({ length: 500 }, (_, j) => U(i * 500 + j + 1)),
  }));
  const m = await sendAll(sender, multicasts);
  const mRate = multicasts.length / m.seconds;
  console.log(`line: 100,000 recipients of one step: ${multicasts.length} multicasts in ${m.seconds.toFixed(2)} s = ${mRate.toFixed(0)} req/s, ${pct(mRate, LINE_RATE_LIMITS.multicast)} (target ≥ 90%); ${m.failed} not sent`);

  const pushes = pushBatches(10_000, 200_000);
  const cpu0 = process.cpuUsage();
  const p = await sendAll(sender, pushes);
  const cpu = process.cpuUsage(cpu0);
  const pRate = pushes.length / p.seconds;
  console.log(`  10,000 personalized pushes in ${p.seconds.toFixed(2)} s = ${pRate.toFixed(0)} req/s, ${pct(pRate, LINE_RATE_LIMITS.push)} (target ≥ 90%); ${p.failed} not sent; the sender used ${(((cpu.user + cpu.system) / 1e6 / p.seconds) * 100).toFixed(0)}% of one core (${((cpu.user + cpu.system) / pushes.length).toFixed(0)} µs of CPU a request)`);
  clearInterval(sample);
  const stats = await server.stop();
  console.log(`  sender peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB; LINE received ${stats.received.toLocaleString('en')} messages and answered ${stats.limited} rate-limit 429s`);

  // The same pushes over a real round trip: throughput then depends on requests in flight.
  const far = await startLineServer(ROUND_TRIP_MS);
  const farSender = new LineSender({ channelAccessToken: 'test-token', baseURL: far.url });
  const f = await sendAll(farSender, pushBatches(10_000, 300_000));
  const fRate = 10_000 / f.seconds;
  console.log(`  with a ${ROUND_TRIP_MS} ms round trip, ${farSender.concurrency} in flight: 10,000 pushes in ${f.seconds.toFixed(2)} s = ${fRate.toFixed(0)} req/s, ${pct(fRate, LINE_RATE_LIMITS.push)}; ${f.failed} not sent`);

  // And through a tick: claimed from the outbox, sent, answers recorded, in a pipeline.
  const db = await freshDatabase(serverUrl(args), 'lsd_bench_line');
  const now = Date.now();
  await db.exec(`insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, created_at)
    select 'bench', 'named', 'push', jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'お客様' || g || 'さん、カートに商品が残っています')),
           array['U' || lpad(to_hex(400000 + g), 32, '0')], 'bench__named', to_timestamp(${now / 1000}) + g * interval '1 microsecond'
    from generate_series(1, 10000) g; analyze outbox_batches;`);
  const t = performance.now();
  const tick = await runTick({ store: new Store(db), sender: farSender, scenarios: [], now: () => Date.now() });
  const seconds = (performance.now() - t) / 1000;
  const sent = tick.counts.total('sent');
  const tRate = sent / seconds;
  const recorded = await db.query<{ n: number }>(`select count(*)::int as n from outbox_batches where status = 'sent'`);
  console.log(`  through a whole tick (Postgres outbox, ${ROUND_TRIP_MS} ms round trip): ${sent.toLocaleString('en')} pushes in ${seconds.toFixed(2)} s = ${tRate.toFixed(0)} req/s, ${pct(tRate, LINE_RATE_LIMITS.push)}; ${recorded[0]!.n.toLocaleString('en')} recorded as sent`);
  await db.close();
  const farStats = await far.stop();
  console.log(`  LINE received ${farStats.received.toLocaleString('en')} pushes for ${farStats.distinct.toLocaleString('en')} users and answered ${farStats.limited} rate-limit 429s`);
}
