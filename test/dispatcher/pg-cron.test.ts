// The real clock: pg_cron (preloaded on the test server, see .ci/run) fires the job each
// minute, the job calls the dispatch function (the real Deno handler, served locally), the
// function asks the decision and starts a run at the loopback GitHub API. On Supabase the
// job's one statement is pg_net's net.http_post (docs/dispatcher.md); pg_net is not packaged
// here, so this job makes the same POST with curl (COPY ... TO PROGRAM, the superuser's).
import { afterEach, inject, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { GitHubServer } from '../support/github-server.js';
import { serverStore } from '../support/db.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** The dispatch function served by Deno; resolves with its port. */
async function serveDispatch(env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    'npx',
    ['--no-install', 'deno', 'run', '--allow-net', '--allow-env', '--allow-read', 'tests/serve-dispatch.ts'],
    { cwd: 'supabase/functions', env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(async () => {
    child.kill();
    await once(child, 'exit').catch(() => {});
  });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = (out += d.toString()).match(/listening on (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`deno exited ${code}: ${out}`)));
  });
  return { port, child };
}

/** Runs a statement in the server's postgres database, where pg_cron lives. */
async function inCronDatabase<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: inject('databaseUrl') });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

test(
  'pg_cron fires the job, the dispatch function decides, and the start arrives at GitHub',
  { timeout: 150_000 },
  async () => {
    const github = await new GitHubServer().start();
    cleanups.push(() => github.stop());
    const { db, url, drop } = await serverStore();
    cleanups.push(drop);
    await db.call('lsd_dispatcher_setup', { owner: 'my-shop', repo: 'line-scenarios', workflow: 'step-delivery.yml' });
    // Work due: a pending outbox batch.
    await db.query(
      `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients) values ('s', 'a', 'push', '[]', array['U1'])`,
    );
    const secret = randomBytes(12).toString('hex');
    const { port } = await serveDispatch({
      DATABASE_URL: url,
      DISPATCH_SECRET: secret,
      GITHUB_DISPATCH_TOKEN: 'github_pat_cron_test',
      GITHUB_API_URL: github.url,
    });
    const database = new URL(url).pathname.slice(1);
    const job = `lsd-dispatch-${database}`;
    const post = `curl -s -o /dev/null -X POST -H "x-dispatch-secret: ${secret}" http://127.0.0.1:${port}/`;
    await inCronDatabase(`select cron.schedule_in_database($1, '* * * * *', $2, $3)`, [
      job,
      `copy (select 1) to program '${post}'`,
      database,
    ]);
    cleanups.push(async () => void (await inCronDatabase(`select cron.unschedule($1)`, [job])));

    // pg_cron fires on the minute: within ~70 s the start arrives.
    const deadline = Date.now() + 75_000;
    while (Date.now() < deadline && !github.requests.some((r) => r.path.endsWith('/dispatches'))) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const starts = github.requests.filter((r) => r.path.endsWith('/dispatches'));
    assert.equal(starts.length, 1, 'one start within a minute and a bit');
    assert.deepEqual(starts[0], {
      method: 'POST',
      path: '/repos/my-shop/line-scenarios/actions/workflows/step-delivery.yml/dispatches',
      authorization: 'Bearer github_pat_cron_test',
      body: { ref: 'main', inputs: { 'run-mode': 'send' } },
      status: 204,
    });
    // Recorded, with why and GitHub's answer; the cron job's last decision is kept.
    const status = await db.call<{
      settings: { last_decided_at: number | null };
      last_starts: { origin: string; reasons: string[]; status: string; http_status: number }[];
    }>('lsd_dispatcher_status', {});
    assert.deepEqual(
      status.last_starts.map((s) => [s.origin, s.reasons, s.status, s.http_status]),
      [['cron', ['outbox due'], 'started', 204]],
    );
    assert.ok(status.settings.last_decided_at, 'the decision time is recorded');
  },
);
