// The whole validate mode on a pull_request event, in process through src/action/main.ts:
// the context comes from GITHUB_EVENT_PATH and the API from GITHUB_API_URL, as on a runner.
// The checkout is shallow (actions/checkout's default), so the base commit is fetched.
import { afterAll, beforeAll, test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { runInProcess } from '../support/run-action.js';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, copyFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GitHubServer } from '../support/github-server.js';
import { baseScenario, toText } from '../support/scenarios.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: 'pipe' })
    .toString()
    .trim();
let server: GitHubServer;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

/** An origin with the base and a pull request's commit, and a one-commit clone of the latter. */
async function shallowPullRequestClone(): Promise<{ clone: string; baseSha: string; headSha: string }> {
  const origin = await mkdtemp(join(tmpdir(), 'lsd-origin-'));
  await mkdir(join(origin, 'scenarios'));
  await copyFile(resolve('scenarios/scenario.schema.json'), join(origin, 'scenarios/scenario.schema.json'));
  await writeFile(join(origin, 'scenarios/cart.json'), toText(baseScenario()));
  git(origin, 'init', '-q', '-b', 'main');
  git(origin, 'add', '.');
  git(origin, 'commit', '-qm', 'base');
  const baseSha = git(origin, 'rev-parse', 'HEAD');
  const retimed = baseScenario();
  retimed.steps[1] = { ...retimed.steps[1]!, wait: { after: { days: 2 }, at: '10:00' } };
  await writeFile(join(origin, 'scenarios/cart.json'), toText(retimed));
  git(origin, 'commit', '-qam', 'retime the second step');
  const headSha = git(origin, 'rev-parse', 'HEAD');
  const clone = await mkdtemp(join(tmpdir(), 'lsd-clone-'));
  git(clone, 'clone', '-q', '--depth=1', `file://${origin}`, '.');
  return { clone, baseSha, headSha };
}

beforeAll(async () => {
  server = await new GitHubServer().start();
});

afterAll(async () => {
  await server.stop();
  process.chdir(savedCwd);
  process.env = savedEnv;
});

async function validateInProcess(
  env: Record<string, string>,
): Promise<{ summary: string; stdout: string; exitCode: number }> {
  const files = await mkdtemp(join(tmpdir(), 'lsd-action-'));
  const summaryFile = join(files, 'summary.md');
  await writeFile(summaryFile, '');
  await writeFile(join(files, 'output.txt'), '');
  Object.assign(process.env, { GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: join(files, 'output.txt'), ...env });
  vi.resetModules(); // @actions/github reads the event once, when it is imported
  const { run } = await import('../../src/action/main.js');
  const { exitCode, stdout } = await runInProcess(run);
  return { summary: await readFile(summaryFile, 'utf8'), stdout, exitCode };
}

test('validate mode on a pull request: the preview against the base commit goes to one comment, updated on the next push', async () => {
  const { clone, baseSha, headSha } = await shallowPullRequestClone();
  assert.throws(() => git(clone, 'cat-file', '-e', `${baseSha}^{commit}`), 'the shallow clone lacks the base commit');
  const eventFile = join(clone, '..', `event-${Date.now()}.json`);
  const repo = { full_name: 'shop/line' };
  await writeFile(
    eventFile,
    JSON.stringify({ pull_request: { number: 12, base: { sha: baseSha, repo }, head: { sha: headSha, repo } } }),
  );
  process.chdir(clone);
  const env = {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_API_URL: server.url,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'shop/line',
    GITHUB_RUN_ID: '77',
    INPUT_MODE: 'validate',
    INPUT_SCENARIOS: 'scenarios',
    'INPUT_GITHUB-TOKEN': 'ghs_t0ken',
  };
  const first = await validateInProcess(env);
  assert.equal(first.exitCode, 0, first.stdout);
  const second = await validateInProcess(env);
  assert.equal(second.exitCode, 0, second.stdout);

  assert.deepEqual(server.calls(), [
    'GET /repos/shop/line/issues/12/comments?per_page=100',
    'POST /repos/shop/line/issues/12/comments',
    'GET /repos/shop/line/issues/12/comments?per_page=100',
    // Its own comment, by its author: who the token is.
    'GET /user',
    'POST /graphql',
    'PATCH /repos/shop/line/issues/comments/1000',
  ]);
  assert.equal(server.comments.length, 1);
  const comment = server.comments[0]!.body;
  assert.match(comment, /^<!-- line-step-delivery:preview -->\n# Scenarios\n✅ 1 scenario\(s\) valid\./);
  assert.match(comment, /step \*\*second\*\* retimed/, 'compared with the base commit from the event');
  assert.match(comment, /Preview of [0-9a-f]{7}, updated on every push/);
  assert.match(comment, /\[the run\]\(https:\/\/github\.example\/shop\/line\/actions\/runs\/77\)/);
  assert.match(first.summary, /step \*\*second\*\* retimed/, 'the job summary has the preview too');
  assert.match(first.stdout, /Preview comment created on pull request #12/);
});
