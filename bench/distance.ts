// A tick with its database far away: a Japanese shop's Supabase in Tokyo and GitHub's runners
// in the US are 100-150 ms apart. A small TCP proxy in front of PostgreSQL holds every chunk
// for half the round trip each way; the same ticks run with the database next door (0 ms)
// and 100 ms away, side by side in one run, LINE 100 ms away in both.
// Prints (read by machine):
//   distance: uniform N due, database 0 ms away: S s (D due/s)
//   distance: uniform N due, database 100 ms away: S s (D due/s)
//   distance: personalized N due, database 100 ms away: R× LINE's bound
// Run: npm run bench -- distance [--uniform 50000] [--personalized 20000] [--rtt 100] [postgres://...]
import net from 'node:net';
import { LineSender } from '../src/line/line-sender.js';
import { Store } from '../src/store/store.js';
import { openPostgres } from '../src/store/postgres.js';
import type { SqlRpc } from '../src/store/rpc.js';
import { runTick } from '../src/engine/index.js';
import { NoLineSender } from '../src/line/sender.js';
import { compileScenario, type CompiledScenario } from '../src/scenario/compile.js';
import { baseScenario } from '../test/support/scenarios.js';
import { databaseUrl, freshDatabase, serverUrl } from './database.js';
import { firstRequestAfter, lineBoundSeconds, startLineServer } from './line.js';

const LINE_ROUND_TRIP_MS = 100;

/** A TCP proxy to `target` that delays every chunk by half of `rttMs` in each direction, in order. */
export async function latencyProxy(
  target: { host: string; port: number },
  rttMs: number,
): Promise<{ port: number; close: () => Promise<void> }> {
  const half = rttMs / 2;
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => (half > 0 ? setTimeout(() => to.write(chunk), half) : to.write(chunk)));
    from.on('end', () => setTimeout(() => to.end(), half));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

const numberArg = (args: string[], name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};

function scenarioOf(text: string): CompiledScenario {
  return compileScenario(
    baseScenario({ id: 'distance', steps: [{ id: 'step', type: 'message', messages: [{ type: 'text', text }] }] }),
  );
}

/** A fresh database with `count` users due now at the scenario's first step (each with its own order). */
async function dueDatabase(base: string, name: string, scenario: CompiledScenario, count: number, now: number) {
  const db = await freshDatabase(base, name);
  await runTick({ store: new Store(db), sender: new NoLineSender(), scenarios: [scenario], now: () => now - 60_000 });
  const at = `to_timestamp(${now / 1000}) - interval '1 minute'`;
  await db.exec(`insert into line_users (line_user_id) select 'U' || lpad(to_hex(g), 32, '0') from generate_series(1, ${count}) g;
    insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, trigger, scenario_hash, shard_key)
    select 'distance', 'U' || lpad(to_hex(g), 32, '0'), '${scenario.first}', ${at}, ${at}, ${at},
           jsonb_build_object('order', 'A' || g), '${scenario.hash}', lsd_shard_key('U' || lpad(to_hex(g), 32, '0'))
    from generate_series(1, ${count}) g; analyze enrollments; analyze line_users;`);
  await db.close();
}

interface Measured {
  seconds: number;
  bound: number;
  sent: number;
  /** Seconds from the tick's start to the end of planning, and to LINE's first acceptance. */
  planned: number;
  first: string;
  /** The store's calls by function: how many, and their total and longest time. */
  calls: string;
}

/** Times each call of the adapter by function (wrapping its call method). */
function timedCalls(db: SqlRpc) {
  const byFn = new Map<string, { n: number; ms: number; max: number }>();
  const call = db.call.bind(db);
  db.call = async <T>(fn: string, payload: unknown): Promise<T> => {
    const start = performance.now();
    try {
      return await call<T>(fn, payload);
    } finally {
      const ms = performance.now() - start;
      const c = byFn.get(fn) ?? { n: 0, ms: 0, max: 0 };
      byFn.set(fn, { n: c.n + 1, ms: c.ms + ms, max: Math.max(c.max, ms) });
    }
  };
  return {
    summary: () =>
      [...byFn]
        .filter(([, c]) => c.ms >= 500)
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([fn, c]) => `${fn} ${c.n}× ${(c.ms / 1000).toFixed(1)} s (max ${Math.round(c.max)} ms)`)
        .join(', '),
  };
}

/** One tick against the database `rttMs` away (through the proxy), LINE 100 ms away. */
async function farTick(base: string, name: string, scenario: CompiledScenario, rttMs: number): Promise<Measured> {
  const url = new URL(databaseUrl(base, name));
  const proxy = await latencyProxy({ host: url.hostname, port: Number(url.port || 5432) }, rttMs);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const line = await startLineServer(LINE_ROUND_TRIP_MS);
  const db = await openPostgres(url.toString(), { max: 16 });
  const calls = timedCalls(db);
  const t = performance.now();
  const startedAt = Date.now();
  let planned = 0;
  const tick = await runTick({
    store: new Store(db),
    sender: new LineSender({ channelAccessToken: 'test-token', baseURL: line.url }),
    scenarios: [scenario],
    now: () => Date.now(),
    progress: (what) => {
      if (what === 'enrollments planned') planned = performance.now() - t;
    },
  });
  const seconds = (performance.now() - t) / 1000;
  await db.close();
  await proxy.close();
  const report = await line.stop();
  return {
    seconds,
    bound: lineBoundSeconds(report),
    sent: tick.counts.total('sent'),
    planned: planned / 1000,
    first: firstRequestAfter(report, startedAt),
    calls: calls.summary(),
  };
}

/** Where the tick's time went: planning's end and LINE's first acceptance, from the start. */
const where = (m: Measured) => `planning done ${m.planned.toFixed(1)} s, first request ${m.first}; calls: ${m.calls}`;

const rate = (n: number, m: Measured) =>
  `${m.seconds.toFixed(1)} s (${Math.round(n / m.seconds).toLocaleString('en')} due/s)`;

export async function benchDistance(args: string[] = []): Promise<void> {
  const base = serverUrl(args);
  const uniform = numberArg(args, '--uniform', 50_000);
  const personalized = numberArg(args, '--personalized', 20_000);
  const rtt = numberArg(args, '--rtt', 100);
  const same = scenarioOf('いつもご利用ありがとうございます。今週のおすすめをお届けします');
  const named = scenarioOf('ご注文{{trigger.order}}の発送準備が整いました');
  const results: string[] = [];
  for (const away of [0, rtt]) {
    await dueDatabase(base, 'lsd_bench_distance', same, uniform, Date.now());
    const m = await farTick(base, 'lsd_bench_distance', same, away);
    results.push(
      `distance: uniform ${uniform.toLocaleString('en')} due, database ${away} ms away: ${rate(uniform, m)}`,
    );
    console.log(results.at(-1));
    console.error(`  (${m.sent.toLocaleString('en')} sent; LINE's bound ${m.bound.toFixed(1)} s; ${where(m)})`);
  }
  await dueDatabase(base, 'lsd_bench_distance', named, personalized, Date.now());
  const p = await farTick(base, 'lsd_bench_distance', named, rtt);
  console.log(
    `distance: personalized ${personalized.toLocaleString('en')} due, database ${rtt} ms away: ${(p.seconds / Math.max(p.bound, 0.001)).toFixed(2)}× LINE's bound`,
  );
  console.error(
    `  (${p.seconds.toFixed(1)} s, LINE's bound ${p.bound.toFixed(1)} s, ${p.sent.toLocaleString('en')} sent; ${where(p)})`,
  );
}
