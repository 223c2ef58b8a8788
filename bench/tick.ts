// The whole process: `node dist/index.js` started as the Actions runner starts it, against
// the store benchmark's database (1,000,000 enrollments, 10,000,000 events; run
// `npm run bench -- store` first) and the loopback LINE server at LINE's rate limits.
// Prints the time from process start to exit of a tick with nothing due, and of a tick
// with 100,000 due. Run: npm run bench -- tick
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openPostgres } from '../src/store/postgres.js';
import { startLineServer } from './line.js';

async function tickProcess(env: Record<string, string>): Promise<{ ms: number; code: number; summary: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-tick-'));
  const summary = join(dir, 'summary.md');
  await writeFile(summary, '');
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
  const { readFile } = await import('node:fs/promises');
  return { ms: performance.now() - start, code, summary: await readFile(summary, 'utf8') };
}

export async function benchTick(
  baseUrl = process.env.LSD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
): Promise<void> {
  const url = baseUrl.replace(/\/[^/]*$/, '/lsd_bench');
  const db = await openPostgres(url);
  const now = Date.parse('2026-11-25T03:00:00Z'); // the store benchmark's clock
  const line = await startLineServer();
  const env = {
    DATABASE_URL: url,
    LINE_CHANNEL_ACCESS_TOKEN: 'test-token',
    LINE_API_BASE_URL: line.url,
    LINE_STEP_DELIVERY_NOW: String(now),
  };
  await db.exec(
    `update enrollments set due_at = to_timestamp(${now / 1000}) + interval '1 day' where status = 'active' and due_at <= to_timestamp(${now / 1000})`,
  );
  const idle: number[] = [];
  for (let i = 0; i < 5; i++) idle.push((await tickProcess(env)).ms);
  idle.sort((a, b) => a - b);
  console.log(
    `tick process, nothing due, 1M enrollments: ${idle[2]!.toFixed(0)} ms from start to exit (median of 5; target under 1 s)`,
  );
  await db.exec(
    `update enrollments set due_at = to_timestamp(${now / 1000}) - interval '1 minute', lease_owner = null, lease_until = null where id in (select id from enrollments where status = 'active' order by id limit 100000)`,
  );
  await db.exec('analyze enrollments');
  const busy = await tickProcess(env);
  const sent = /\| (\d+) \|/.exec(busy.summary);
  console.log(
    `tick process, 100,000 due: ${(busy.ms / 1000).toFixed(1)} s from start to exit (exit ${busy.code}); summary: ${busy.summary.split('\n').find((l) => l.startsWith('Events taken'))}${sent ? '' : ''}`,
  );
  const counts = await db.query<{ status: string; n: string }>(
    `select status, count(*)::text as n from deliveries group by status order by status`,
  );
  console.log(`  deliveries: ${counts.map((c) => `${c.status} ${c.n}`).join(', ')}`);
  await line.stop();
  await db.close();
}
