// LINE delivery throughput against the loopback LINE server set to LINE's rate limits:
// 100,000 recipients of one step (multicasts of 500) and 100,000 personalized pushes,
// each as achieved requests per second against the limit, with the sender's CPU a request
// and its peak memory (at 10,000 and at 100,000 pushes); the same 100,000 pushes through
// undici's Pool, its CPU a request beside the keep-alive pool's; 10,000 pushes through the SDK's
// own fetch side by side; then pushes with a 100 ms round trip (a GitHub runner to LINE),
// by the sender alone and through a whole tick's send phase (outbox claimed from Postgres,
// answers recorded).
// Run: npm run bench -- line [--transports | --tick [--planned N]] [postgres://... of a server where it may create a database]
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LineSender, LINE_RATE_LIMITS } from '../src/line/line-sender.js';
import { undiciCaller } from './undici-caller.js';
import type { OutboxBatch } from '../src/domain.js';
import { Store } from '../src/store/store.js';
import { freshDatabase, serverUrl } from './database.js';
import { runTick } from '../src/engine/tick.js';
import { NoLineSender } from '../src/line/sender.js';
import { LineServer } from '../test/support/line-server.js';
import { baseScenario } from '../test/support/scenarios.js';
import { compileScenario } from '../src/scenario/compile.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const ROUND_TRIP_MS = 100;

/** Sends batch(0..count-1), made one at a time as the sender asks (no list of them is kept). */
async function sendAll(
  sender: LineSender,
  count: number,
  batch: (i: number) => OutboxBatch,
  onProgress?: (done: number) => void,
): Promise<{ seconds: number; failed: number }> {
  let next = 0;
  let done = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: sender.concurrency }, async () => {
      while (next < count) {
        if ((await sender.send(batch(next++))).outcome !== 'sent') failed++;
        onProgress?.(++done);
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, failed };
}

/** The loopback LINE server in its own process, so it does not share the sender's CPU. */
export async function serveLine(latencyMs = 0): Promise<void> {
  const server = await new LineServer({
    rateLimits: { push: LINE_RATE_LIMITS.push, multicast: LINE_RATE_LIMITS.multicast },
    latencyMs,
  }).start();
  process.stdout.write(`${server.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    const limited = server.requests.filter((r) => r.status === 429).length;
    const accepted = server.requests.filter((r) => r.status === 200 || r.status === 409);
    const count = (path: string) => accepted.filter((r) => r.path.endsWith(path)).length;
    process.stdout.write(
      `${JSON.stringify({
        received: server.received.length,
        distinct: new Set(server.received.map((r) => r.to)).size,
        limited,
        pushes: count('/message/push'),
        multicasts: count('/message/multicast'),
        firstAt: accepted.length ? accepted.reduce((m, r) => Math.min(m, r.at), Infinity) : undefined,
      })}\n`,
    );
    void server.stop().then(() => process.exit(0));
  });
}

/** What the loopback LINE server received: recipients, requests it accepted by kind, the first one's time. */
export interface LineServerReport {
  received: number;
  distinct: number;
  limited: number;
  pushes: number;
  multicasts: number;
  firstAt: number | undefined;
}

/** LINE's bound for what the server accepted: the fewest seconds its rate limits allow. */
export function lineBoundSeconds(line: LineServerReport): number {
  return line.pushes / LINE_RATE_LIMITS.push + line.multicasts / LINE_RATE_LIMITS.multicast;
}

/** Seconds from `startedAt` (epoch ms) to the first request LINE accepted, as text ('none' if none). */
export function firstRequestAfter(line: LineServerReport, startedAt: number, digits = 2): string {
  return line.firstAt !== undefined ? `${((line.firstAt - startedAt) / 1000).toFixed(digits)} s` : 'none';
}

/** The loopback LINE server in a child process; stop() returns what it received. */
export async function startLineServer(latencyMs = 0): Promise<{ url: string; stop: () => Promise<LineServerReport> }> {
  const child = spawn(process.execPath, [process.argv[1]!, 'line-server', String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const iterator = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const url = (await iterator.next()).value as string;
  return {
    url,
    stop: async () => {
      child.stdin.end();
      return JSON.parse((await iterator.next()).value as string) as LineServerReport;
    },
  };
}

const pushBatch = (i: number): OutboxBatch => ({
  id: randomUUID(),
  scenarioId: 'bench',
  stepId: 'named',
  kind: 'push',
  messages: [{ type: 'text' as const, text: `お客様${i}さん、カートに商品が残っています` }],
  aggregationUnit: 'bench__named',
  attempts: 1,
  createdAt: 0,
  recipients: [U(i)],
});

const pct = (rate: number, limit: number) => `${((rate / limit) * 100).toFixed(0)}% of LINE's ${limit}/s`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const CPU_TARGET_US = 100;
const RSS_TARGET_MIB = 150;

/** Peak resident memory of this process, sampled every 20 ms. */
function rssSampler(): { peak: () => number; stop: () => void } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return { peak: () => (peak = Math.max(peak, process.memoryUsage.rss())), stop: () => clearInterval(timer) };
}

/** CPU of this process since `from`, per request, in µs; and as a share of one core. */
function cpuPer(from: NodeJS.CpuUsage, requests: number, seconds: number): string {
  const cpu = process.cpuUsage(from);
  const us = (cpu.user + cpu.system) / requests;
  return `the sender used ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of one core, ${us.toFixed(0)} µs of CPU a request (target ≤ ${CPU_TARGET_US})`;
}

/** N pushes by one sender at LINE's limit: rate, CPU a request, and peak RSS at 10,000 and at N. */
async function pushRun(
  sender: LineSender,
  label: string,
  count: number,
  from: number,
  rss: { peak: () => number },
): Promise<number> {
  const checkpoint = 10_000;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const line = (n: number, seconds: number, failed: number) =>
    `  ${label}: ${n.toLocaleString('en')} personalized pushes in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)} req/s, ${pct(n / seconds, LINE_RATE_LIMITS.push)} (target ≥ 90%); ${failed} not sent; ${cpuPer(cpu0, n, seconds)}; peak RSS ${mib(rss.peak())} (target < ${RSS_TARGET_MIB} MiB)`;
  const run = await sendAll(
    sender,
    count,
    (i) => pushBatch(from + i),
    (done) => {
      if (done === checkpoint && count > checkpoint)
        console.log(
          `${line(checkpoint, (performance.now() - start) / 1000, 0)}, the first of ${count.toLocaleString('en')}`,
        );
    },
  );
  console.log(line(count, run.seconds, run.failed));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / count;
}

/**
 * The transport decision (transport.ts's head comment): the same 100,000 pushes through the
 * hand-written keep-alive pool and through undici's Pool, CPU a request side by side.
 */
function compareTransports(pool: number, undici: number): void {
  const ratio = undici / pool;
  console.log(
    `  transports, CPU a request over 100,000 pushes: keep-alive pool ${pool.toFixed(0)} µs, undici Pool ${undici.toFixed(0)} µs ` +
      `(${ratio.toFixed(2)}×; undici is adopted within 1.15×)`,
  );
}

export async function benchLine(args: string[] = []): Promise<void> {
  const server = await startLineServer(0);
  const rss = rssSampler();
  const sender = new LineSender({ channelAccessToken: 'test-token', baseURL: server.url });
  console.log(`line: this process holds ${mib(rss.peak())} before sending (the benchmarks' modules loaded)`);
  // Pushes first, so that their peak RSS is their own: through the keep-alive pool (the
  // action's transport); the SDK's own fetch comes last, side by side.
  const poolCpu = await pushRun(sender, 'keep-alive pool', 100_000, 1_000_000, rss);
  const viaUndici = new LineSender({ channelAccessToken: 'test-token', baseURL: server.url, transport: undiciCaller });
  compareTransports(poolCpu, await pushRun(viaUndici, 'undici Pool', 100_000, 4_000_000, rss));

  const messages = [{ type: 'text' as const, text: '友だち限定クーポンです' }];

  const multicast = (i: number): OutboxBatch => ({
    id: randomUUID(),
    scenarioId: 'bench',
    stepId: 'coupon',
    kind: 'multicast',
    messages,
    aggregationUnit: 'bench__coupon',
    attempts: 1,
    createdAt: 0,
    recipients: Array.from({ length: 500 }, (_, j) => U(i * 500 + j + 1)),
  });
  const m = await sendAll(sender, 200, multicast);
  const mRate = 200 / m.seconds;
  console.log(
    `  100,000 recipients of one step: 200 multicasts in ${m.seconds.toFixed(2)} s = ${mRate.toFixed(0)} req/s, ${pct(mRate, LINE_RATE_LIMITS.multicast)} (target ≥ 90%); ${m.failed} not sent; peak RSS ${mib(rss.peak())}`,
  );

  const sdk = new LineSender({ channelAccessToken: 'test-token', baseURL: server.url, transport: 'sdk' });
  await pushRun(sdk, '@line/bot-sdk over fetch', 10_000, 2_000_000, rss);
  rss.stop();
  const stats = await server.stop();
  console.log(
    `  LINE received ${stats.received.toLocaleString('en')} messages and answered ${stats.limited} rate-limit 429s`,
  );
  // --transports: the side-by-side pushes alone.
  if (args.includes('--transports')) return;

  // The same pushes over a real round trip: throughput then depends on requests in flight.
  const far = await startLineServer(ROUND_TRIP_MS);
  const farSender = new LineSender({ channelAccessToken: 'test-token', baseURL: far.url });
  const f = await sendAll(farSender, 10_000, (i) => pushBatch(3_000_000 + i));
  const fRate = 10_000 / f.seconds;
  console.log(
    `  with a ${ROUND_TRIP_MS} ms round trip, ${farSender.concurrency} in flight: 10,000 pushes in ${f.seconds.toFixed(2)} s = ${fRate.toFixed(0)} req/s, ${pct(fRate, LINE_RATE_LIMITS.push)}; ${f.failed} not sent`,
  );

  await far.stop();
  // And through whole ticks: claimed from the outbox, sent, answers recorded, in a pipeline.
  await wholeTick(args, 'push', 40_000);
  await wholeTick(args, 'multicast', 2_000);
  await plannedTick(args, 100_000);
}

/** Runs the whole-tick part alone: npm run bench -- line --tick [--planned N: only the planning tick, N due] */
export async function benchLineTick(args: string[]): Promise<void> {
  const planned = args.indexOf('--planned');
  if (planned >= 0)
    return plannedTick(
      args.filter((_, i) => i !== planned && i !== planned + 1),
      Number(args[planned + 1]),
    );
  await wholeTick(args, 'push', 40_000);
  await wholeTick(args, 'multicast', 2_000);
  await plannedTick(args, 100_000);
}

/**
 * A tick that plans as it sends: `count` enrollments due now at a step whose message names
 * the user's order (a push each), LINE 100 ms away. The wall time from the tick's start
 * beside LINE's bound for what it sent (pushes / 2,000 + multicasts / 200 seconds), and the
 * first request's delay: planning overlapped with sending.
 */
async function plannedTick(args: string[], count: number): Promise<void> {
  const far = await startLineServer(ROUND_TRIP_MS);
  const sender = new LineSender({ channelAccessToken: 'test-token', baseURL: far.url });
  const db = await freshDatabase(serverUrl(args), 'lsd_bench_line');
  const scenario = compileScenario(
    baseScenario({
      id: 'bench',
      steps: [
        {
          id: 'named',
          type: 'message',
          messages: [{ type: 'text', text: 'ご注文{{trigger.order}}の発送準備が整いました' }],
        },
      ],
    }),
  );
  const store = new Store(db);
  const now = Date.now();
  // Registers the scenario (its first tick), then the users due now with their own order.
  await runTick({ store, sender: new NoLineSender(), scenarios: [scenario], now: () => now - 60_000 });
  await db.exec(`insert into line_users (line_user_id) select 'U' || lpad(to_hex(g), 32, '0') from generate_series(1, ${count}) g;
    insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, trigger, scenario_hash, shard_key)
    select 'bench', 'U' || lpad(to_hex(g), 32, '0'), '${scenario.first}', to_timestamp(${now / 1000}) - interval '1 minute',
           to_timestamp(${now / 1000}) - interval '1 minute', to_timestamp(${now / 1000}) - interval '1 minute',
           jsonb_build_object('order', 'A' || g), '${scenario.hash}', lsd_shard_key('U' || lpad(to_hex(g), 32, '0'))
    from generate_series(1, ${count}) g; analyze enrollments; analyze line_users;`);
  const startedAt = Date.now();
  const t = performance.now();
  const tick = await runTick({ store, sender, scenarios: [scenario], now: () => Date.now() });
  const seconds = (performance.now() - t) / 1000;
  await db.close();
  const line = await far.stop();
  const bound = lineBoundSeconds(line);
  const first = firstRequestAfter(line, startedAt);
  console.log(
    `  a tick that plans as it sends (${count.toLocaleString('en')} due, a message naming each user's order, ${ROUND_TRIP_MS} ms round trip): ` +
      `${seconds.toFixed(1)} s from the tick's start; LINE accepted ${line.pushes.toLocaleString('en')} pushes and ${line.multicasts} multicasts, ` +
      `LINE's bound ${bound.toFixed(1)} s: ${(seconds / Math.max(bound, 0.001)).toFixed(2)}× (target ≤ 1.1×); first request ${first} after the start ` +
      `(target ≤ 5 s); ${tick.counts.total('sent').toLocaleString('en')} sent; ${line.limited} rate-limit answers`,
  );
}

/**
 * A tick whose outbox holds `count` batches (personalized pushes, or multicasts of 500),
 * sent to the loopback LINE 100 ms away: the rate from the tick's start to its end, beside
 * LINE's limit, and the time to the first request.
 */
async function wholeTick(args: string[], kind: 'push' | 'multicast', count: number): Promise<void> {
  const far = await startLineServer(ROUND_TRIP_MS);
  const sender = new LineSender({ channelAccessToken: 'test-token', baseURL: far.url });
  const db = await freshDatabase(serverUrl(args), 'lsd_bench_line');
  const now = Date.now();
  const size = kind === 'push' ? 1 : 500;
  // Each multicast a different coupon (identical ones would be merged into fewer).
  await db.exec(`insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, created_at)
    select 'bench', 'named', '${kind}', jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'お客様' || g || 'さん、カートに商品が残っています')),
           array(select 'U' || lpad(to_hex(400000 + g * ${size} + k), 32, '0') from generate_series(1, ${size}) k),
           'bench__named', to_timestamp(${now / 1000}) + g * interval '1 microsecond'
    from generate_series(1, ${count}) g; analyze outbox_batches;`);
  // The outbox's scenario must be loaded: a tick holds the batches of a missing scenario file.
  const scenario = compileScenario(
    baseScenario({ id: 'bench', steps: [{ id: 'named', type: 'message', messages: [{ type: 'text', text: 'x' }] }] }),
  );
  const startedAt = Date.now();
  const t = performance.now();
  const tick = await runTick({ store: new Store(db), sender, scenarios: [scenario], now: () => Date.now() });
  const seconds = (performance.now() - t) / 1000;
  const recorded = await db.query<{ n: number }>(`select count(*)::int as n from outbox_batches where status = 'sent'`);
  await db.close();
  const line = await far.stop();
  const requests = kind === 'push' ? line.pushes : line.multicasts;
  const limit = LINE_RATE_LIMITS[kind];
  const rate = requests / seconds;
  const first = firstRequestAfter(line, startedAt);
  console.log(
    `  through a whole tick (Postgres outbox, ${ROUND_TRIP_MS} ms round trip): ${requests.toLocaleString('en')} ${kind === 'push' ? 'pushes' : 'multicasts of 500'} ` +
      `in ${seconds.toFixed(2)} s from the tick's start = ${rate.toFixed(0)} req/s, ${pct(rate, limit)} (target ≥ 95%); ` +
      `first request ${first} after the start; ${recorded[0]!.n.toLocaleString('en')} recorded as sent, ` +
      `${tick.counts.total('sent').toLocaleString('en')} recipients; ${line.limited} rate-limit answers`,
  );
}
