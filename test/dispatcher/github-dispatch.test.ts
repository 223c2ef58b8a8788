// The start itself: GitHub's workflow dispatch against the loopback GitHub API, the exact
// request (URL, auth, ref, inputs), and each failure answer classed with what to do; then
// the decision and the call together on the real server (the start and GitHub's answer
// recorded).
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { GitHubServer } from '../support/github-server.js';
import { serverStore } from '../support/db.js';
import { requestWorkflowRun, type StartRequest } from '../../supabase/functions/_shared/github-dispatch.js';
import { startIfDue } from '../../supabase/functions/_shared/github-dispatch.js';

const github = new GitHubServer();
beforeAll(() => github.start());
afterAll(() => github.stop());
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

const REQ: StartRequest = {
  owner: 'my-shop',
  repo: 'line-scenarios',
  workflow: 'step-delivery.yml',
  ref: 'main',
  inputs: { 'run-mode': 'send' },
};
const TOKEN = 'github_pat_test_0000';
const NOW = Date.UTC(2026, 11, 7, 3, 0);
const call = () => requestWorkflowRun(REQ, { token: TOKEN, apiUrl: github.url, now: () => NOW });

test('204 is a start; the request is exactly the documented one', async () => {
  const before = github.requests.length;
  const answer = await call();
  assert.deepEqual(answer, {
    outcome: 'started',
    http_status: 204,
    answer: 'GitHub accepted the start of step-delivery.yml on main',
    retry_at: null,
  });
  const [req, ...more] = github.requests.slice(before);
  assert.equal(more.length, 0);
  assert.deepEqual(req, {
    method: 'POST',
    path: '/repos/my-shop/line-scenarios/actions/workflows/step-delivery.yml/dispatches',
    authorization: `Bearer ${TOKEN}`,
    body: { ref: 'main', inputs: { 'run-mode': 'send' } },
    status: 204,
  });
});

const failures: [string, { status: number; body?: unknown; headers?: Record<string, string> }, object][] = [
  [
    '401: the token',
    { status: 401, body: { message: 'Bad credentials' } },
    {
      outcome: 'refused',
      answer:
        'the token was refused (401: "Bad credentials"): it is missing, expired or revoked; set a fine-grained token with Actions: write on my-shop/line-scenarios as the GITHUB_DISPATCH_TOKEN secret',
    },
  ],
  [
    '403: the permission',
    { status: 403, body: { message: 'Resource not accessible by personal access token' } },
    {
      outcome: 'refused',
      answer:
        'the token lacks Actions: write on my-shop/line-scenarios (403: "Resource not accessible by personal access token"): give it that permission on this repository',
    },
  ],
  [
    '404: the names',
    { status: 404, body: { message: 'Not Found' } },
    {
      outcome: 'refused',
      answer:
        'GitHub found no workflow step-delivery.yml in my-shop/line-scenarios (404: "Not Found"): check owner, repo and workflow (the file name under .github/workflows), and that the token can see my-shop/line-scenarios',
    },
  ],
  [
    '422: not on the ref',
    { status: 422, body: { message: 'No ref found for: main' } },
    {
      outcome: 'refused',
      answer:
        'the workflow file step-delivery.yml is not on ref main, or main does not exist (422: "No ref found for: main"): push the workflow to main, or set the dispatcher\'s ref',
    },
  ],
  [
    '422: no workflow_dispatch',
    { status: 422, body: { message: "Workflow does not have 'workflow_dispatch' trigger" } },
    {
      outcome: 'refused',
      answer:
        'the workflow step-delivery.yml on main has no workflow_dispatch trigger (422: "Workflow does not have \'workflow_dispatch\' trigger"): add "workflow_dispatch:" under its "on:" and push it to main',
    },
  ],
  [
    '422: inputs',
    { status: 422, body: { message: 'Unexpected inputs provided: ["run-mode"]' } },
    {
      outcome: 'refused',
      answer:
        'the workflow step-delivery.yml on main does not take the inputs run-mode (422: "Unexpected inputs provided: ["run-mode"]"): declare them under workflow_dispatch.inputs, or change the dispatcher\'s inputs',
    },
  ],
  [
    '403 with x-ratelimit-remaining 0: the rate limit until its reset',
    {
      status: 403,
      body: { message: 'API rate limit exceeded' },
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 1800) },
    },
    {
      outcome: 'rate_limited',
      answer: `GitHub's rate limit (403: "API rate limit exceeded"): asked again after 2026-12-07T03:30:00.000Z`,
      retry_at: NOW + 1_800_000,
    },
  ],
  [
    '429 with retry-after',
    { status: 429, body: { message: 'secondary rate limit' }, headers: { 'retry-after': '120' } },
    {
      outcome: 'rate_limited',
      answer: `GitHub's rate limit (429: "secondary rate limit"): asked again after 2026-12-07T03:02:00.000Z`,
      retry_at: NOW + 120_000,
    },
  ],
  [
    '502: asked again next minute',
    { status: 502 },
    { outcome: 'failed', answer: 'GitHub could not start the run (502): the next minute asks again' },
  ],
];

for (const [name, reply, expected] of failures) {
  test(`classed: ${name}`, async () => {
    github.dispatchAnswers.push(reply);
    const answer = await call();
    assert.deepEqual(answer, { http_status: reply.status, retry_at: null, ...expected });
    assert.ok(!answer.answer.includes(TOKEN), 'never the token');
  });
}

test('no answer at all: failed, and the next minute asks again', async () => {
  const answer = await requestWorkflowRun(REQ, { token: TOKEN, apiUrl: 'http://127.0.0.1:9' });
  assert.deepEqual(answer, {
    outcome: 'failed',
    http_status: null,
    answer: 'GitHub did not answer (no connection): the next minute asks again',
    retry_at: null,
  });
});

test("the decision and the call: a start recorded with GitHub's answer; a refusal holds the next one back", async () => {
  const { db, drop } = await serverStore();
  drops.push(drop);
  await db.call('lsd_dispatcher_setup', { ...REQ, inputs: { 'run-mode': 'send', note: 'dispatcher' } });
  // Work due: an outbox batch waiting (a tick's crash between commit and send).
  await db.query(
    `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients) values ('s', 'a', 'push', '[]', array['U1'])`,
  );
  const dispatcher = { call: (fn: string, p: object) => db.call(fn, p), token: TOKEN, apiUrl: github.url };
  const before = github.requests.length;
  const first = await startIfDue(dispatcher, 'cron');
  assert.equal(first.answer?.outcome, 'started');
  assert.deepEqual(github.requests.slice(before)[0]?.body, {
    ref: 'main',
    inputs: { 'run-mode': 'send', note: 'dispatcher' },
  });
  const status = await db.call<{ last_starts: Record<string, unknown>[] }>('lsd_dispatcher_status', {});
  assert.deepEqual(
    status.last_starts.map((s) => [s.origin, s.reasons, s.status, s.http_status]),
    [['cron', ['outbox due'], 'started', 204]],
  );
  // A run that begins and ends without sending it (say the workflow failed early): the
  // batch is still due, and after the gap another start is refused.
  await db.query(
    `insert into runs (started_at, finished_at, status) values (now() - interval '10 minutes', now() - interval '9 minutes', 'ok')`,
  );
  await db.query(`update lsd_dispatches set decided_at = now() - interval '11 minutes'`);
  await db.query(`update outbox_batches set created_at = now() - interval '5 minutes'`);
  github.dispatchAnswers.push({ status: 403, body: { message: 'Resource not accessible by personal access token' } });
  const refused = await startIfDue(dispatcher, 'line-webhook');
  assert.equal(refused.answer?.outcome, 'refused');
  const held = await startIfDue(dispatcher, 'cron');
  assert.equal(held.answer, undefined);
  assert.match(held.decision.wait_reason ?? '', /^GitHub refused the last start: the token lacks Actions: write/);
});
