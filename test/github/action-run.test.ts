// Run mode with alert-issue: true, in process through src/action/main.ts, against the real
// PostgreSQL server, the loopback LINE API and the loopback GitHub API: a tick whose message
// fails opens the issue, a tick whose token LINE refuses updates it, a healthy tick closes it.
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { runInProcess } from '../support/run-action.js';
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitHubServer } from '../support/github-server.js';
import { LineServer } from '../support/line-server.js';
import { serverStore } from '../support/db.js';
import { toText } from '../support/scenarios.js';

const T0 = Date.parse('2026-11-25T01:00:00Z');
const MINUTE = 60_000;
const user = (n: number) => `U${String(n).padStart(32, '0')}`;
let github: GitHubServer;
let line: LineServer;
let db: Awaited<ReturnType<typeof serverStore>>;
let repo: string;
const scenario = {
  id: 'cart',
  version: 1,
  entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
  steps: [{ id: 'reminder', type: 'message', messages: [{ type: 'text', text: 'still there?' }] }],
};
let run: () => Promise<void>;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

beforeAll(async () => {
  github = await new GitHubServer().start();
  line = await new LineServer({ token: 'line-t0ken' }).start();
  db = await serverStore();
  repo = await mkdtemp(join(tmpdir(), 'lsd-repo-'));
  await mkdir(join(repo, 'scenarios'));
  await writeFile(join(repo, 'scenarios/cart.json'), toText(scenario));
  process.chdir(repo);
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_API_URL: github.url,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'shop/line',
    GITHUB_RUN_ID: '99',
    INPUT_MODE: 'run',
    INPUT_SCENARIOS: 'scenarios',
    'INPUT_DATABASE-URL': db.url,
    'INPUT_LINE-API-BASE-URL': line.url,
    'INPUT_ALERT-ISSUE': 'true',
    'INPUT_GITHUB-TOKEN': 'ghs_t0ken',
  });
  ({ run } = await import('../../src/action/main.js'));
});

afterAll(async () => {
  process.chdir(savedCwd);
  process.env = savedEnv;
  await github.stop();
  await line.stop();
  await db.drop();
});

async function tick(at: number, lineToken: string, cartOf?: number): Promise<{ exitCode: number; log: string }> {
  if (cartOf !== undefined) {
    await db.db.query(
      `insert into events (line_user_id, type, properties, occurred_at, source)
       values ($1, 'cart_abandoned', '{}', to_timestamp($2 / 1000.0), 'test')`,
      [user(cartOf), at - MINUTE],
    );
  }
  const summaryFile = join(await mkdtemp(join(tmpdir(), 'lsd-action-')), 'summary.md');
  await writeFile(summaryFile, '');
  await writeFile(`${summaryFile}.out`, '');
  Object.assign(process.env, {
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: `${summaryFile}.out`,
    LINE_STEP_DELIVERY_NOW: String(at),
    'INPUT_LINE-CHANNEL-ACCESS-TOKEN': lineToken,
  });
  const { exitCode, stdout } = await runInProcess(run);
  return { exitCode, log: `${await readFile(summaryFile, 'utf8')}\n${stdout}` };
}

test('alert-issue: opened by a tick that needs a person, updated by the next, closed by a healthy one', async () => {
  // The scenario's first run: a step that fell due before it expires rather than going out.
  const first = await tick(T0 - 5 * MINUTE, 'line-t0ken');
  assert.equal(first.exitCode, 0, first.log);
  const refusal = { message: "The property, 'to', in the request body is invalid (line 1, column 7)." };
  line.faultsFor.set(user(1), { kind: 'status', status: 400, body: refusal });
  const failed = await tick(T0, 'line-t0ken', 1);
  assert.equal(failed.exitCode, 1, failed.log);
  const refused = await tick(T0 + 5 * MINUTE, 'wrong-token', 2);
  assert.equal(refused.exitCode, 1, refused.log);
  const healthy = await tick(T0 + 10 * MINUTE, 'line-t0ken', 3);
  assert.equal(healthy.exitCode, 0, healthy.log);

  const list = 'GET /repos/shop/line/issues?labels=line-step-delivery&state=open&per_page=100';
  const whoAmI = ['GET /user', 'POST /graphql'];
  assert.deepEqual(github.calls(), [
    list,
    list,
    'POST /repos/shop/line/labels',
    'POST /repos/shop/line/issues',
    list,
    ...whoAmI,
    'PATCH /repos/shop/line/issues/1000',
    list,
    ...whoAmI,
    'POST /repos/shop/line/issues/1000/comments',
    'PATCH /repos/shop/line/issues/1000',
  ]);
  const opened = github.requests[3]!.body!.body as string;
  assert.match(opened, /1 recipient\(s\) did not get their step \(1 LINE request\(s\) refused\)/);
  assert.match(opened, /\| cart \| reminder \| 1 \| 1 \| .*The property, 'to', in the request body is invalid/);
  assert.match(opened, /\[the run and its job summary\]\(https:\/\/github\.example\/shop\/line\/actions\/runs\/99\)/);
  assert.match(github.requests[7]!.body!.body as string, /LINE refused the channel access token/);
  assert.deepEqual(
    github.issues.map((i) => [i.state, i.labels.map((l) => l.name)]),
    [['closed', ['line-step-delivery']]],
  );
  assert.match(github.comments[0]!.body, /^✅ The tick at 2026-11-25T01:10:00\.000Z needed no one: closing/);
  assert.doesNotMatch(
    JSON.stringify(github.requests.map((r) => r.body)),
    /U[0-9a-f]{32}|still there/,
    'no LINE user id or message text',
  );
});

test('alert-issue: a tick that cannot run (an invalid scenario on the default branch) opens the issue too', async () => {
  const calls = github.calls().length;
  await writeFile(
    join(repo, 'scenarios/cart.json'),
    toText({ ...scenario, steps: [{ ...scenario.steps[0], next: 'nowhere' }] }),
  );
  const broken = await tick(T0 + 15 * MINUTE, 'line-t0ken');
  assert.equal(broken.exitCode, 1, broken.log);
  await writeFile(join(repo, 'scenarios/cart.json'), toText(scenario));
  const fixed = await tick(T0 + 20 * MINUTE, 'line-t0ken');
  assert.equal(fixed.exitCode, 0, fixed.log);
  const list = 'GET /repos/shop/line/issues?labels=line-step-delivery&state=open&per_page=100';
  const issue = github.issues.at(-1)!;
  assert.equal(github.issues.length, 2, 'a new issue: the first was closed');
  assert.deepEqual(github.calls().slice(calls), [
    list,
    'POST /repos/shop/line/labels',
    'POST /repos/shop/line/issues',
    list,
    'GET /user',
    'POST /graphql',
    `POST /repos/shop/line/issues/${issue.number}/comments`,
    `PATCH /repos/shop/line/issues/${issue.number}`,
  ]);
  const opened = github.requests[calls + 2]!.body!.body as string;
  assert.match(
    opened,
    /- the scenarios have 1 problem\(s\); nothing was sent:\n\n {2}```\n {2}scenarios\/cart\.json:\d+:\d+ .*"nowhere"/,
  );
  assert.equal(github.requests[calls + 1]!.status, 422, 'the label is there from the first issue');
  assert.equal(issue.state, 'closed');
});
