// docs/setup.md, walked as a new user would, end to end: init in an empty repository; the
// step-delivery workflow's own step run as the runner runs it (the action from a bare copy of
// this repository's committed files, inputs as INPUT_* from the workflow's with: block and
// the repository's secrets), against the real PostgreSQL server and the loopback LINE server;
// a friend added (the row the line-webhook function writes); the doctor workflow's step (the
// action's mode doctor) finds every link ok; the next tick sends the welcome.
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../../src/commands/init.js';
import { serverDatabase } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { actionOutput, bareCheckout, inputVariable, runAction, runInProcess } from '../support/run-action.js';
import { actionInputs } from '../support/workflow-step.js';
import { openPostgres } from '../../src/store/postgres.js';
import { CHANNEL_SECRET, webhookReceiver } from '../doctor/fixture.js';

const FRIEND = `U${'4'.repeat(32)}`;
let repo = '';
let checkout: Awaited<ReturnType<typeof bareCheckout>>;
let database: Awaited<ReturnType<typeof serverDatabase>>;
let line: LineServer;
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
let secrets: Record<string, string>;

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'lsd-walk-'));
  checkout = await bareCheckout();
  database = await serverDatabase(); // empty: nothing migrated yet
  line = await new LineServer().start();
  receiver = await webhookReceiver();
  // Step 3 of the checklist: the webhook URL set to the function, Verify, Use webhook on.
  line.webhook = { endpoint: `${receiver.origin}/functions/v1/line-webhook`, active: true };
  line.webhookSecret = CHANNEL_SECRET;
  // Step 4: the repository's secrets, exactly as named (a direct connection instead of the HTTP API).
  secrets = { LINE_CHANNEL_ACCESS_TOKEN: line.token, DATABASE_URL: database.url };
}, 120_000);

afterAll(async () => {
  await line?.stop();
  await receiver?.stop();
  await database?.drop();
  await checkout?.remove();
  if (repo) await rm(repo, { recursive: true, force: true });
});

/** The step-delivery workflow's step, on its schedule: the action from the bare copy, in the user's repository. */
async function scheduledTick() {
  const workflow = await readFile(join(repo, '.github/workflows/step-delivery.yml'), 'utf8');
  const inputs = actionInputs(workflow, { secrets });
  // LINE's address is the one thing the runner has that the workflow does not say.
  return runAction(inputs, { dir: checkout.dir, cwd: repo, env: { LINE_API_BASE_URL: line.url } });
}

/** The doctor workflow's step, run from the Actions tab: the action's mode doctor, in this process (its LINE server is here). */
async function doctorFromActionsTab(): Promise<{ exitCode: number; stdout: string; summary: string }> {
  const workflow = await readFile(join(repo, '.github/workflows/doctor.yml'), 'utf8');
  const inputs = actionInputs(workflow, { secrets, inputs: { 'line-channel': '@loopback' } });
  const summaryFile = join(repo, '..', `summary-${Date.now()}.md`);
  await writeFile(summaryFile, '');
  const saved = { ...process.env };
  const cwd = process.cwd();
  Object.assign(process.env, { GITHUB_STEP_SUMMARY: summaryFile, LINE_API_BASE_URL: line.url });
  for (const [name, value] of Object.entries(inputs)) process.env[inputVariable(name)] = value;
  process.chdir(repo);
  try {
    const { run } = await import('../../src/action/main.js');
    const result = await runInProcess(run);
    return { ...result, summary: await readFile(summaryFile, 'utf8') };
  } finally {
    process.chdir(cwd);
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    await rm(summaryFile, { force: true });
  }
}

test('init, the first scheduled run, a friend added, doctor all ok, and the next tick sends the welcome', async () => {
  // Step 0: init in the user's empty repository.
  const written = await init({ cwd: repo, uses: 'my-shop/line-step-delivery@v1' });
  assert.ok(written.ok);
  assert.ok(written.wrote.includes('.github/workflows/step-delivery.yml'));

  // Step 5, pushed: the schedule's first run applies the migrations (database-url) and puts the sample in force.
  const first = await scheduledTick();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(actionOutput(first, 'sent'), '0');

  // A friend adds the account: the line-webhook function writes this row.
  const db = await openPostgres(database.url, { max: 1 });
  try {
    await db.query(
      `insert into events (line_user_id, type, source, occurred_at, idempotency_key)
       values ($1, 'follow', 'line-webhook', now(), 'webhook-1')`,
      [FRIEND],
    );
  } finally {
    await db.close();
  }

  // Step 7: doctor from the Actions tab finds every link ok, and checks them all.
  const doctor = await doctorFromActionsTab();
  assert.equal(doctor.exitCode, 0, doctor.stdout);
  assert.doesNotMatch(doctor.summary, /❌|not checked/, doctor.summary);
  assert.match(doctor.summary, /\| ✅ \| channel \| the token is valid, for "Loopback Shop" \(@loopback\) \|/);
  assert.match(doctor.summary, /\| ✅ \| webhook test \| LINE reached it \(200\) \|/);
  assert.match(doctor.summary, /\| ✅ \| LINE webhook \| last event \d+ s ago/);
  assert.match(doctor.summary, /\*\*Every link checked is ok\.\*\*/);
  // ::add-mask:: is the runner's command to hide a secret: it carries the value, and never shows.
  const shown = doctor.stdout.replace(/^::add-mask::.*$/gm, '') + doctor.summary;
  assert.ok(!shown.includes(line.token) && !shown.includes(database.url), 'no secret is shown');
  assert.doesNotMatch(shown, /U[0-9a-f]{32}/, 'no user id is shown');

  // The next scheduled run sends the welcome.
  const second = await scheduledTick();
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(actionOutput(second, 'sent'), '1');
  const inbox = line.inbox(FRIEND) as { type: string; text?: string }[][];
  assert.equal(inbox.length, 1);
  assert.deepEqual(
    inbox[0]!.map((m) => m.type),
    ['sticker', 'text'],
  );
  assert.match(inbox[0]![1]!.text!, /友だち追加ありがとうございます/);
}, 180_000);
