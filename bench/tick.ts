// The whole process: `node dist/index.js` started as the Actions runner starts it, against
// the store benchmark's database (1,000,000 enrollments, 10,000,000 events; run
// `npm run bench -- store` first) and the loopback LINE server at LINE's rate limits.
// Prints the time from process start to exit of a tick with nothing due, then of a tick
// with N due (default 100,000) beside LINE's bound for what it sent (pushes / 2,000 +
// multicasts / 200 seconds) and the time to its first accepted request.
// Run: npm run bench -- tick [--due 1000000] [--rtt 100] [postgres://... of the server]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openPostgres } from '../src/store/postgres.js';
import { firstRequestAfter, lineBoundSeconds, startLineServer, type LineServerReport } from './line.js';
import { resetBenchDatabase } from './store.js';

interface TickRun {
  ms: number;
  startedAt: number;
  code: number;
  summary: string;
}

async function tickProcess(env: Record<string, string>): Promise<TickRun> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-tick-'));
  const summary = join(dir, 'summary.md');
  await writeFile(summary, '');
  const startedAt = Date.now();
  const start = performance.now();
  const child = spawn(process.execPath, [resolve('dist/index.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      GITHUB_STEP_SUMMARY: summary,
      INPUT_MODE: 'run',
      INPUT_SCENARIOS: 'scenarios',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  return { ms: performance.now() - start, startedAt, code, summary: await readFile(summary, 'utf8') };
}

/** `--name value` from the arguments, as a number. */
const numberArg = (args: string[], name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};

/** What LINE's limits allow at best for what the tick sent, and how close the tick came. */
function boundLine(run: TickRun, line: LineServerReport): string {
  const bound = lineBoundSeconds(line);
  const wall = run.ms / 1000;
  const first = firstRequestAfter(line, run.startedAt, 1);
  return (
    `  LINE accepted ${line.pushes.toLocaleString('en')} pushes and ${line.multicasts.toLocaleString('en')} multicasts ` +
    `(${line.received.toLocaleString('en')} recipients, ${line.limited} rate-limit answers); LINE's bound for them ` +
    `${bound.toFixed(1)} s; the tick took ${(wall / Math.max(bound, 0.001)).toFixed(2)}× the bound (target ≤ 1.1×); ` +
    `first request accepted ${first} after the process started (target ≤ 5 s)`
  );
}

export async function benchTick(args: string[] = []): Promise<void> {
  const baseUrl =
    args.find((a) => a.startsWith('postgres')) ??
    process.env.LSD_TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const due = numberArg(args, '--due', 100_000);
  const rtt = numberArg(args, '--rtt', 0);
  const url = baseUrl.replace(/\/[^/]*$/, '/lsd_bench');
  const db = await openPostgres(url);
  const now = Date.parse('2026-11-25T03:00:00Z'); // the store benchmark's clock
  const env = {
    DATABASE_URL: url,
    LINE_CHANNEL_ACCESS_TOKEN: 'test-token',
    LINE_STEP_DELIVERY_NOW: String(now),
  };
  const at = `to_timestamp(${now / 1000})`;
  // Every enrollment back at its first step, nothing sent (the last run's changes undone).
  await resetBenchDatabase(db, now);
  const idleLine = await startLineServer(rtt);
  const idle: number[] = [];
  for (let i = 0; i < 5; i++) idle.push((await tickProcess({ ...env, LINE_API_BASE_URL: idleLine.url })).ms);
  await idleLine.stop();
  idle.sort((a, b) => a - b);
  console.log(
    `tick process, nothing due, 1M enrollments: ${idle[2]!.toFixed(0)} ms from start to exit (median of 5; target under 1 s)`,
  );
  await db.exec(
    `update enrollments set due_at = ${at} - interval '1 minute', lease_owner = null, lease_until = null
     where id in (select id from enrollments where status = 'active' order by id limit ${due})`,
  );
  // As autovacuum would after a while; the claims do not depend on it (migration 20261202000001).
  await db.exec('analyze enrollments');
  const line = await startLineServer(rtt);
  const busy = await tickProcess({ ...env, LINE_API_BASE_URL: line.url });
  const received = await line.stop();
  console.log(
    `tick process, ${due.toLocaleString('en')} due${rtt ? `, LINE ${rtt} ms away` : ''}: ` +
      `${(busy.ms / 1000).toFixed(1)} s from start to exit (exit ${busy.code}; the store benchmark's enrollments of ` +
      `the reservation sample have no reservation date, and fail their step)`,
  );
  console.log(boundLine(busy, received));
  await db.close();
}
