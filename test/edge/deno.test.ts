// Runs the edge hooks' own tests under Deno (the npm package deno), against a fresh,
// migrated database on the real Postgres server, after `deno check` of every function.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { serverStore } from '../support/db.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

const deno = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('npx', ['--no-install', 'deno', ...args], {
    cwd: 'supabase/functions',
    env: { ...process.env, ...env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });

test('the edge functions type-check under deno check', () => {
  const r = deno(['check', 'line-webhook/index.ts', 'shop-events/index.ts', 'click/index.ts', 'tests/hooks.test.ts']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the edge hooks pass their Deno tests against the real database', async () => {
  const db = await serverStore();
  cleanups.push(db.drop);
  const r = deno(['test', '--allow-net', '--allow-env', '--allow-read', 'tests/'], { DATABASE_URL: db.url });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.match(out, /ok \| 20 passed \| 0 failed/);
});
