// `line-step-delivery dispatcher setup|status` through the CLI's table, on the real server
// (DATABASE_URL): one call sets it up, a wrong setting is named with its fix, status shows
// the configuration, the last starts with GitHub's answers and the month (never a token).
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { serverStore } from '../support/db.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

async function cli(env: Record<string, string>, ...args: string[]) {
  const out = { stdout: '', stderr: '' };
  const write = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
  };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  process.stdout.write = (chunk: string) => ((out.stdout += chunk), true);
  process.stderr.write = (chunk: string) => ((out.stderr += chunk), true);
  try {
    return { code: await main(args), ...out };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
    process.env = saved;
  }
}

test('dispatcher setup, a refused setting, and status with the last starts', async () => {
  const { db, url, drop } = await serverStore();
  drops.push(drop);
  const env = { DATABASE_URL: url, SUPABASE_URL: '', SUPABASE_SECRET_KEY: '' };
  const before = await cli(env, 'dispatcher', 'status');
  assert.equal(before.code, 0);
  assert.match(before.stdout, /The dispatcher is not set up: line-step-delivery dispatcher setup --owner O/);
  assert.match(before.stdout, /Lateness: no sending tick recorded in the last 7 days/);

  const bad = await cli(
    env,
    'dispatcher',
    'setup',
    '--owner',
    'my-shop',
    '--repo',
    'line-scenarios',
    '--workflow',
    'deploy',
  );
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'line-step-delivery dispatcher setup: workflow "deploy" is not a workflow file name: give its file name under .github/workflows, e.g. {"workflow": "step-delivery.yml"}\n',
  );
  const budget = await cli(env, 'dispatcher', 'setup', '--budget-minutes', 'lots');
  assert.equal(budget.code, 1);
  assert.match(budget.stderr, /--budget-minutes must be a whole number or none, got "lots"/);

  const ok = await cli(
    env,
    'dispatcher',
    'setup',
    '--owner',
    'my-shop',
    '--repo',
    'line-scenarios',
    '--workflow',
    'step-delivery.yml',
    '--ref',
    'main',
    '--budget-minutes',
    '2000',
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(
    ok.stdout,
    /^Dispatcher: on\n {2}starts {6}my-shop\/line-scenarios, workflow step-delivery\.yml on main, inputs \{"run-mode":"send"\}\n/,
  );
  assert.match(ok.stdout, /budget {6}2000 billed minutes a month/);
  assert.match(ok.stdout, /No start yet\./);

  // A start GitHub refused, then status: the answer and what to do.
  await db.query(
    `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients) values ('s', 'a', 'push', '[]', array['U1'])`,
  );
  const d = await db.call<{ dispatch_id: number }>('lsd_dispatch_decide', {});
  await db.call('lsd_dispatch_answer', {
    id: d.dispatch_id,
    outcome: 'refused',
    http_status: 404,
    answer: 'GitHub found no workflow step-delivery.yml in my-shop/line-scenarios (404)',
  });
  const status = await cli(env, 'dispatcher', 'status');
  assert.equal(status.code, 0);
  assert.match(status.stdout, /cron {9}refused 404 {6}outbox due\n {6}GitHub found no workflow step-delivery\.yml/);
  assert.match(status.stdout, /NOT WORKING the dispatcher's last start/);
  assert.match(status.stdout, /This month: 0 run\(s\), 0 billed Actions minute\(s\) of a budget of 2000\./);

  // Changing one setting keeps the rest; --budget-minutes none removes the budget.
  const changed = await cli(env, 'dispatcher', 'setup', '--budget-minutes', 'none', '--off');
  assert.match(changed.stdout, /^Dispatcher: switched off\n {2}starts {6}my-shop\/line-scenarios/);
  assert.match(changed.stdout, /budget {6}none billed minutes a month/);

  const wrong = await cli(env, 'dispatcher', 'start');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /line-step-delivery dispatcher: "start" is not setup or status/);
});
