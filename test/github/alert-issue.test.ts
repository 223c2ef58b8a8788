// The alert issue, against a loopback GitHub API: opened once, updated, closed.
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { GitHubServer } from '../support/github-server.js';
import { openClient, type ContextLike } from '../../src/github/client.js';
import { ALERT_LABEL, syncAlertIssue, type AlertReport } from '../../src/github/alert-issue.js';
import { alertIssueAfterTick } from '../../src/github/action-steps.js';

const TARGET = { owner: 'shop', repo: 'line', runUrl: 'https://github.com/shop/line/actions/runs/42' };
const AT = Date.parse('2026-11-25T01:00:00Z');
const USER = `U${'0123456789abcdef'.repeat(2)}`;
const LIST = `GET /repos/shop/line/issues?labels=${ALERT_LABEL}&state=open&per_page=100`;
const servers: GitHubServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
});

async function github(): Promise<GitHubServer> {
  const server = await new GitHubServer().start();
  servers.push(server);
  return server;
}

function contextFor(server: GitHubServer): ContextLike {
  const repo = { owner: 'shop', repo: 'line' };
  return { eventName: 'schedule', payload: {}, repo, serverUrl: 'https://github.com', apiUrl: server.url, runId: 42 };
}

const failing: AlertReport = {
  reasons: [
    '300 recipient(s) did not get their step (1 LINE request(s) refused): see the reasons below.',
    '1 outbox batch(es) need review: see outbox_batches.',
  ],
  failures: [
    {
      scenarioId: 'cart-abandoned',
      stepId: 'coupon',
      count: 300,
      batches: 1,
      reason: `The property, 'to', in the request body is invalid (${USER})`,
    },
  ],
};

test('the alert issue is opened once, updated by the next tick that needs a person, and closed with a comment by a healthy one', async () => {
  const server = await github();
  const client = openClient('t0ken', contextFor(server));
  const opened = await syncAlertIssue(client, TARGET, failing, { at: AT, mayClose: true });
  const refused = { reasons: ['LINE refused the channel access token (401/403).'], failures: [] };
  const updated = await syncAlertIssue(client, TARGET, refused, { at: AT + 300_000, mayClose: true });
  const closed = await syncAlertIssue(client, TARGET, undefined, { at: AT + 600_000, mayClose: true });
  const quiet = await syncAlertIssue(client, TARGET, undefined, { at: AT + 900_000, mayClose: true });
  assert.deepEqual(
    [opened, updated, closed, quiet],
    [
      { kind: 'opened', number: 1000 },
      { kind: 'updated', number: 1000 },
      { kind: 'closed', number: 1000 },
      { kind: 'none' },
    ],
  );
  // Who the token is, asked once an issue carries the marker: GITHUB_TOKEN is refused by
  // GET /user and named by GraphQL's viewer.
  const whoAmI = ['GET /user', 'POST /graphql'];
  assert.deepEqual(server.calls(), [
    LIST,
    'POST /repos/shop/line/labels',
    'POST /repos/shop/line/issues',
    LIST,
    ...whoAmI,
    'PATCH /repos/shop/line/issues/1000',
    LIST,
    ...whoAmI,
    'POST /repos/shop/line/issues/1000/comments',
    'PATCH /repos/shop/line/issues/1000',
    LIST,
  ]);
  const created = server.requests[2]!.body!;
  assert.equal(created.title, 'LINE step delivery needs a person');
  assert.deepEqual(created.labels, [ALERT_LABEL]);
  assert.match(created.body as string, /300 recipient\(s\) did not get their step \(1 LINE request\(s\) refused\)/);
  assert.match(created.body as string, /\| scenario \| step \| recipients \| LINE requests \| reason \|/);
  assert.match(
    created.body as string,
    /\| cart-abandoned \| coupon \| 300 \| 1 \| The property, 'to', in the request body is invalid \(U…\) \|/,
  );
  assert.match(
    created.body as string,
    /\[the run and its job summary\]\(https:\/\/github\.com\/shop\/line\/actions\/runs\/42\)/,
  );
  assert.doesNotMatch(
    JSON.stringify(server.requests.map((r) => r.body)),
    /U[0-9a-f]{32}/,
    'no LINE user id reaches the issue',
  );
  const issue = server.issues[0]!;
  assert.equal(issue.state, 'closed');
  assert.equal(issue.state_reason, 'completed');
  assert.match(issue.body, /LINE refused the channel access token/, 'the body says what the last tick found');
  assert.match(server.comments[0]!.body, /^✅ The tick at 2026-11-25T01:10:00\.000Z needed no one: closing/);
});

test("an existing label (422) is fine, and a person's issue with the same label is left alone", async () => {
  const server = await github();
  server.labels.add(ALERT_LABEL);
  const labels = [{ name: ALERT_LABEL }];
  const user = { login: 'owner', type: 'User' };
  server.issues.push({
    number: 5,
    title: 'Add a winter scenario',
    body: 'idea',
    state: 'open',
    state_reason: null,
    labels,
    user,
  });
  const client = openClient('t0ken', contextFor(server));
  const outcome = await syncAlertIssue(client, TARGET, failing, { at: AT, mayClose: true });
  assert.deepEqual(outcome, { kind: 'opened', number: 1000 });
  assert.equal(server.requests[1]!.status, 422);
  assert.equal(server.issues.find((i) => i.number === 5)!.body, 'idea');
  await syncAlertIssue(client, TARGET, undefined, { at: AT, mayClose: true });
  assert.equal(server.issues.find((i) => i.number === 5)!.state, 'open');
});

test("an issue that merely carries the marker is not the action's: it is neither edited nor closed", async () => {
  const server = await github();
  const client = openClient('t0ken', contextFor(server));
  // Someone opens an issue with the label and the hidden marker, hoping the bot edits it.
  const forged = {
    number: 7,
    title: 'LINE step delivery needs a person',
    body: '<!-- line-step-delivery:alert -->\n✅ all fine',
    state: 'open' as const,
    state_reason: null,
    labels: [{ name: ALERT_LABEL }],
    user: { login: 'mallory', type: 'User' },
  };
  server.issues.push(forged);
  // Even a person named like the bot is not the bot: only an app's account is of type Bot.
  server.issues.push({ ...forged, number: 8, user: { login: 'github-actions', type: 'User' } });
  assert.deepEqual(await syncAlertIssue(client, TARGET, failing, { at: AT, mayClose: true }), {
    kind: 'opened',
    number: 1000,
  });
  assert.deepEqual(await syncAlertIssue(client, TARGET, undefined, { at: AT, mayClose: true }), {
    kind: 'closed',
    number: 1000,
  });
  assert.deepEqual(
    server.issues.map((i) => [i.number, i.state, i.body.slice(-10)]),
    [
      [7, 'open', '✅ all fine'],
      [8, 'open', '✅ all fine'],
      [1000, 'closed', server.issues[2]!.body.slice(-10)],
    ],
  );
  assert.ok(
    server.requests.every((r) => !/issues\/[78]/.test(r.path)),
    'nothing was written to the forged issues',
  );
});

test('a tick limited to one scenario does not close the issue; each shard keeps its own', async () => {
  const server = await github();
  const client = openClient('t0ken', contextFor(server));
  await syncAlertIssue(client, TARGET, failing, { at: AT, mayClose: true });
  assert.deepEqual(await syncAlertIssue(client, TARGET, undefined, { at: AT, mayClose: false }), { kind: 'none' });
  const shard = { ...TARGET, shard: { index: 1, count: 4 } };
  const healthyShard = await syncAlertIssue(client, shard, undefined, { at: AT, mayClose: true });
  assert.deepEqual(healthyShard, { kind: 'none' }, "a healthy shard leaves the other's issue open");
  await syncAlertIssue(client, shard, failing, { at: AT, mayClose: true });
  assert.deepEqual(
    server.issues.map((i) => [i.title, i.state]),
    [
      ['LINE step delivery needs a person', 'open'],
      ['LINE step delivery needs a person (shard 1 of 4)', 'open'],
    ],
  );
});

test('through the action: opt-in, nothing for a plan-only tick, a warning naming issues: write on 403', async () => {
  const server = await github();
  const ctx = contextFor(server);
  process.env['INPUT_GITHUB-TOKEN'] = 't0ken';
  await alertIssueAfterTick({ ...failing, at: AT }, ctx);
  assert.deepEqual(server.calls(), [], 'alert-issue is off unless asked for');
  process.env['INPUT_ALERT-ISSUE'] = 'true';
  await alertIssueAfterTick({ ...failing, at: AT, mode: 'plan-only' }, ctx);
  assert.deepEqual(server.calls(), [], 'a plan-only tick changes nothing');
  await alertIssueAfterTick({ ...failing, at: AT, mode: 'send' }, ctx);
  assert.equal(server.issues.length, 1);

  const readOnly = await new GitHubServer({ readOnly: true }).start();
  servers.push(readOnly);
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string) => (out.push(String(chunk)), true);
  try {
    await alertIssueAfterTick({ ...failing, at: AT }, contextFor(readOnly));
  } finally {
    process.stdout.write = write;
  }
  assert.match(
    out.join(''),
    /::warning::The alert issue could not be updated \(GitHub answered 403: .*\)\. Grant `issues: write` in the workflow\./,
  );
  assert.equal(process.exitCode ?? 0, 0, 'the tick is not failed for it');
});
