// No operation from the Actions tab or a PR destroys state: a run limited to one scenario
// touches only it; a scenario file that disappears holds its users until it comes back or
// the scenario is retired on purpose; validate --base says so before the merge.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileScenario } from '../../src/scenario/compile.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { runTick, type TickOptions } from '../../src/engine/tick.js';
import { needsAPerson, tickSummary } from '../../src/report/summary.js';
import { NoLineSender } from '../../src/line/sender.js';
import { openPglite } from '../../src/store/pglite.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { Store } from '../../src/store/store.js';
import { validateScenarios } from '../../src/commands/validate.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';
import { baseScenario, toText } from '../support/scenarios.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const scenario = (id: string, over: Partial<Scenario> = {}): Scenario =>
  baseScenario({
    id,
    entry: { trigger: { type: 'event', event: `${id}_started` } },
    exit: [{ event: 'purchased' }],
    steps: [
      {
        id: `${id}-1`,
        type: 'message',
        wait: { after: { hours: 1 } },
        messages: [{ type: 'text', text: `${id} one` }],
      },
      { id: `${id}-2`, type: 'message', wait: { after: { days: 1 } }, messages: [{ type: 'text', text: `${id} two` }] },
    ],
    ...over,
  });
const alpha = compileScenario(scenario('alpha'));
const beta = compileScenario(scenario('beta'));

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function setup() {
  const { store, db, drop } = await serverStore();
  cleanup.push(drop);
  const clock = new Clock(Date.parse('2026-11-25T01:00:00Z'));
  const sender = new NoLineSender();
  const tick = (scenarios: TickOptions['scenarios'], over: Partial<TickOptions> = {}) =>
    runTick({ store, sender, scenarios, now: clock.now, ...over });
  const event = (user: number, type: string) =>
    db.query(`insert into events (line_user_id, type, occurred_at) values ($1, $2, to_timestamp($3 / 1000.0))`, [
      U(user),
      type,
      clock.t,
    ]);
  const enrollments = () =>
    db.query<{
      scenario_id: string;
      to: string;
      status: string;
      step_id: string;
      due_at: string | null;
      exit_reason: string | null;
    }>(
      `select scenario_id, line_user_id as "to", status, step_id, due_at::text, exit_reason from enrollments order by scenario_id, line_user_id`,
    );
  const eventStatuses = () =>
    db.query<{ to: string; type: string; status: string }>(
      `select line_user_id as "to", type, status from events order by id`,
    );
  /** What each user was sent: "user scenario/step" in order. */
  const sent = () => sender.sent.flatMap((b) => b.recipients.map((r) => `${r.slice(-2)} ${b.scenarioId}/${b.stepId}`));
  await tick([alpha, beta]); // the scenarios' first run: they enroll from events after this
  clock.advance(MINUTE);
  return { store, db, clock, sender, tick, event, enrollments, eventStatuses, sent };
}

test('only-scenario claims and sends only that scenario, takes in no events and exits no one', async () => {
  const { db, clock, tick, event, enrollments, eventStatuses, sent } = await setup();
  for (const n of [1, 2]) await event(n, 'alpha_started');
  for (const n of [3, 4]) await event(n, 'beta_started');
  await tick([alpha, beta]);
  clock.advance(62 * MINUTE); // both scenarios' first steps are due

  // Limited to beta, stopped before sending: only beta's enrollments are planned.
  const before = await enrollments();
  await tick([alpha, beta], { onlyScenario: 'beta', stopAfter: 'commit' });
  const planned = await enrollments();
  assert.deepEqual(
    planned.filter((e) => e.scenario_id === 'alpha'),
    before.filter((e) => e.scenario_id === 'alpha'),
    'alpha untouched',
  );
  assert.deepEqual(
    planned.filter((e) => e.scenario_id === 'beta').map((e) => e.step_id),
    ['beta-2', 'beta-2'],
  );
  assert.equal(
    (await db.query(`select 1 from enrollments where lease_owner is not null`)).length,
    0,
    'nothing of alpha was claimed',
  );

  // Events arrive; a run limited to alpha sends alpha only and leaves beta's batch and the events.
  await event(5, 'beta_started');
  await event(6, 'alpha_started');
  const onlyAlpha = await tick([alpha, beta], { onlyScenario: 'alpha' });
  assert.deepEqual(sent().sort(), [`01 alpha/alpha-1`, `02 alpha/alpha-1`]);
  assert.deepEqual(
    (
      await db.query<{ scenario_id: string; status: string }>(
        `select scenario_id, status from outbox_batches order by scenario_id`,
      )
    ).map((b) => `${b.scenario_id} ${b.status}`),
    ['alpha sent', 'beta pending'],
  );
  assert.deepEqual(
    (await eventStatuses()).slice(-2).map((e) => e.status),
    ['new', 'new'],
    'the events wait for a full tick',
  );
  assert.equal((await enrollments()).filter((e) => e.status !== 'active').length, 0, 'no one exited');
  assert.match(onlyAlpha.ingestHeld ?? '', /limited to scenario "alpha": no events were taken in/);
  assert.match(
    tickSummary(onlyAlpha, { now: clock.t, store: 'test', sender: 'test', mode: 'send', intervalMinutes: 5 }),
    /No events taken in: limited to scenario "alpha"/,
  );
  assert.deepEqual(needsAPerson(onlyAlpha), []);

  // The next full tick does the rest.
  clock.advance(5 * MINUTE);
  const full = await tick([alpha, beta]);
  assert.deepEqual(sent().slice(2).sort(), [`03 beta/beta-1`, `04 beta/beta-1`]);
  assert.equal(full.counts.total('enrolled'), 2, 'the held events enrolled their users');
  assert.deepEqual(
    (await eventStatuses()).map((e) => e.status),
    Array(6).fill('done'),
  );
  await assert.rejects(tick([alpha, beta], { onlyScenario: 'gamma' }), /only-scenario: there is no scenario "gamma"/);
});

test('a scenario file removed for two ticks, then restored: nobody is lost, everyone continues, the events of the meantime count', async () => {
  const { db, clock, tick, event, enrollments, sent } = await setup();
  for (const n of [1, 2, 3]) await event(n, 'beta_started');
  await event(10, 'alpha_started');
  await tick([alpha, beta]);
  clock.advance(62 * MINUTE);
  await tick([alpha, beta]);
  assert.deepEqual(sent().sort(), ['01 beta/beta-1', '02 beta/beta-1', '03 beta/beta-1', '0a alpha/alpha-1']);

  // The PR removes beta's file. Events keep arriving: a new entry, then a purchase.
  clock.advance(2 * HOUR);
  await event(4, 'beta_started');
  const first = await tick([alpha]);
  assert.deepEqual(first.missingScenarios, [{ id: 'beta', usersInside: 3 }]);
  assert.ok(
    needsAPerson(first).some((r) => r.startsWith('scenario file missing: beta: 3 users inside.')),
    'the job fails so that a person looks',
  );
  assert.match(
    tickSummary(first, { now: clock.t, store: 'test', sender: 'test', mode: 'send', intervalMinutes: 5 }),
    /Needs a person[\s\S]*scenario file missing: beta: 3 users inside/,
  );
  clock.advance(DAY); // beta's second step falls due for the first three, its first for the fourth
  await event(1, 'purchased');
  const second = await tick([alpha]);
  assert.deepEqual(second.missingScenarios, [{ id: 'beta', usersInside: 4 }]);
  assert.deepEqual(sent().slice(4), ['0a alpha/alpha-2'], 'the other scenario goes on; nothing of beta is sent');
  const held = (await enrollments()).filter((e) => e.scenario_id === 'beta');
  assert.deepEqual(
    held.map((e) => `${e.to.slice(-2)} ${e.status} ${e.step_id} ${e.exit_reason ?? ''}`),
    [
      '01 exited beta-2 exit: purchased', // the purchase counted: it is beta's own exit rule
      '02 active beta-2 ',
      '03 active beta-2 ',
      '04 active beta-1 ', // the entry counted
    ],
  );

  // The file is back: everyone continues where they were.
  clock.advance(HOUR);
  const restored = await tick([alpha, beta]);
  assert.deepEqual(restored.missingScenarios, []);
  assert.deepEqual(needsAPerson(restored), []);
  assert.deepEqual(sent().slice(5).sort(), ['02 beta/beta-2', '03 beta/beta-2', '04 beta/beta-1']);
  const exits = await db.query(`select 1 from enrollments where exit_reason like '%removed%'`);
  assert.equal(exits.length, 0, 'no one was ended for a missing file');
});

test('"status": "retired" ends the enrollments, drops their steps still in the outbox and enrolls no one; its file may then go', async () => {
  const { db, clock, tick, event, enrollments, sender } = await setup();
  for (const n of [1, 2]) await event(n, 'alpha_started');
  await tick([alpha, beta]);
  clock.advance(62 * MINUTE);
  await tick([alpha, beta], { stopAfter: 'commit' }); // alpha-1 planned, still in the outbox
  const retired = compileScenario(scenario('alpha', { version: 2, status: 'retired' }));
  await event(3, 'alpha_started');
  const r = await tick([retired, beta]);
  assert.equal(sender.sent.length, 0, 'nothing of a retired scenario goes out');
  assert.deepEqual(
    (await enrollments()).map((e) => `${e.to.slice(-2)} ${e.status} ${e.exit_reason}`),
    ['01 exited the scenario was retired', '02 exited the scenario was retired'],
  );
  assert.equal(r.counts.total('exited'), 2);
  assert.equal(r.counts.total('enrolled'), 0, 'no one enters a retired scenario');
  const skipped = await db.query<{ status: string; reason: string }>(
    `select status, reason from deliveries order by line_user_id`,
  );
  assert.deepEqual(
    skipped.map((d) => `${d.status}: ${d.reason}`),
    Array(2).fill('skipped: exited before sending: the scenario was retired'),
  );
  clock.advance(HOUR);
  const gone = await tick([beta]);
  assert.deepEqual(gone.missingScenarios, [], 'a retired scenario whose file is removed is not missing');
  assert.deepEqual(needsAPerson(gone), []);
});

test('after the upgrade, scenarios an earlier release ended as removed count as retired, not missing', async () => {
  const db = await openPglite();
  cleanup.push(() => db.close());
  await migrate(
    db,
    MIGRATIONS.filter((m) => m.name < '20261126000050'),
  );
  await db.exec(`insert into scenarios (scenario_id, current_hash, version, activated_at) values ('old', 'h1', 1, now()), ('live', 'h2', 1, now());
    insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, scenario_hash, shard_key, exit_reason)
    values ('old', '${U(1)}', 'exited', 's', now(), now(), 'h1', 1, 'the scenario was removed'),
           ('live', '${U(2)}', 'active', 's', now(), now(), 'h2', 2, null);`);
  await migrate(db);
  const registration = await new Store(db).registerScenarios(Date.now(), [], { present: [] });
  assert.deepEqual(
    registration.missing.map((m) => [m.id, m.usersInside]),
    [['live', 1]],
  );
});

test('validate --base: a scenario removed or renamed without being retired first is an error; a retired one may go', async () => {
  const repo = await mkdtemp(join(tmpdir(), 'lsd-validate-'));
  cleanup.push(() => rm(repo, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
  await mkdir(join(repo, 'scenarios'));
  const file = (name: string, s: Scenario) => writeFile(join(repo, 'scenarios', name), toText(s));
  await file('a.json', scenario('alpha'));
  await file('b.json', scenario('beta', { status: 'retired' }));
  await file('c.json', scenario('gamma'));
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'base');
  await rm(join(repo, 'scenarios', 'a.json'));
  await rm(join(repo, 'scenarios', 'b.json'));
  await file('c.json', scenario('gamma2'));
  const outcome = await validateScenarios({ dir: 'scenarios', baseRef: 'HEAD', cwd: repo });
  const removed = outcome.result.issues.filter((i) => i.rule === 'scenario-removed');
  assert.deepEqual(
    removed.map((i) => i.file),
    ['scenarios/a.json', 'scenarios/c.json'],
  );
  assert.match(
    removed[0]!.message,
    /scenario "alpha" is removed \(scenarios\/a\.json is gone\), but it is not retired/,
  );
  assert.match(removed[1]!.message, /scenario "gamma" is renamed to "gamma2"/);
  for (const i of removed) assert.match(i.message, /Restore the file, or set "status": "retired" first/);
  assert.match(outcome.changes!.find((c) => c.id === 'beta')!.details.join(), /retired scenario removed/);

  // Retired first: the removal passes.
  await file('a.json', scenario('alpha', { version: 2, status: 'retired' }));
  await file('c.json', scenario('gamma'));
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'retire alpha');
  await rm(join(repo, 'scenarios', 'a.json'));
  const later = await validateScenarios({ dir: 'scenarios', baseRef: 'HEAD', cwd: repo });
  assert.deepEqual(later.result.issues, []);
});
