// The dispatcher's Deno tests (supabase/functions/dispatch/dispatch.test.ts: the dispatch
// function, and the LINE webhook and shop-events asking for a start) under the npm package
// deno, against a fresh, migrated database on the real server, after `deno check`.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { serverStore } from '../support/db.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const deno = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('npx', ['--no-install', 'deno', ...args], {
    cwd: 'supabase/functions',
    env: { ...process.env, ...env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });

test('the dispatch function and the webhooks ask for a start under Deno', { timeout: 300_000 }, async () => {
  const check = deno(['check', 'dispatch/index.ts', 'dispatch/dispatch.test.ts', 'tests/serve-dispatch.ts']);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const db = await serverStore();
  cleanups.push(db.drop);
  const r = deno(['test', '--allow-net', '--allow-env', '--allow-read', 'dispatch/'], { DATABASE_URL: db.url });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.match(out, /ok \| 3 passed \| 0 failed/);
});
