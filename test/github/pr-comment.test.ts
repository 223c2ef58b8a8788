// The PR preview as a sticky comment, against a loopback GitHub API.
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { GitHubServer } from '../support/github-server.js';
import { openClient, type ContextLike } from '../../src/github/client.js';
import {
  COMMENT_LIMIT,
  PREVIEW_MARKER,
  cutMarkdown,
  previewCommentBody,
  upsertPreviewComment,
} from '../../src/github/pr-comment.js';
import { commentPreview } from '../../src/github/action-steps.js';

const RUN_URL = 'https://github.com/shop/line/actions/runs/42';
const TARGET = { owner: 'shop', repo: 'line', runUrl: RUN_URL };
const servers: GitHubServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  delete process.env['INPUT_GITHUB-TOKEN'];
});

async function github(options: ConstructorParameters<typeof GitHubServer>[0] = {}): Promise<GitHubServer> {
  const server = await new GitHubServer(options).start();
  servers.push(server);
  return server;
}

function contextFor(server: GitHubServer, pullRequest: Record<string, unknown> = {}): ContextLike {
  return {
    eventName: 'pull_request',
    payload: {
      pull_request: {
        number: 7,
        base: { sha: 'a'.repeat(40), repo: { full_name: 'shop/line' } },
        head: { sha: 'b'.repeat(40), repo: { full_name: 'shop/line' } },
        ...pullRequest,
      },
    },
    repo: { owner: 'shop', repo: 'line' },
    serverUrl: 'https://github.com',
    apiUrl: server.url,
    runId: 42,
  };
}

test('the preview comment is created on the first run and updated on the next, never duplicated', async () => {
  const server = await github();
  server.comments.push({ id: 1, issue_number: 7, body: 'Looks good to me', user: { login: 'reviewer', type: 'User' } });
  const client = openClient('t0ken', contextFor(server));
  const first = await upsertPreviewComment(
    client,
    TARGET,
    7,
    previewCommentBody('# Scenarios\n✅ 1 scenario(s) valid.', { runUrl: RUN_URL }),
  );
  const second = await upsertPreviewComment(
    client,
    TARGET,
    7,
    previewCommentBody('# Scenarios\n✅ 2 scenario(s) valid.', { runUrl: RUN_URL }),
  );
  assert.equal(first.kind, 'created');
  assert.equal(second.kind, 'updated');
  assert.deepEqual(server.calls(), [
    'GET /repos/shop/line/issues/7/comments?per_page=100',
    'POST /repos/shop/line/issues/7/comments',
    'GET /repos/shop/line/issues/7/comments?per_page=100',
    // A comment carries the marker: who is this token? (GITHUB_TOKEN: refused by GET /user, named by GraphQL.)
    'GET /user',
    'POST /graphql',
    'PATCH /repos/shop/line/issues/comments/1000',
  ]);
  assert.equal(server.comments.length, 2, "the reviewer's comment and one preview");
  assert.equal(server.comments[0]!.body, 'Looks good to me', "a person's comment is left alone");
  assert.match(
    server.comments[1]!.body,
    /^<!-- line-step-delivery:preview -->\n# Scenarios\n✅ 2 scenario\(s\) valid\./,
  );
  assert.ok(server.requests.every((r) => r.authorization === 'token t0ken'));
});

const MARKED = `${PREVIEW_MARKER}\n# Scenarios\n✅ valid`;

test('a comment that merely carries the marker is never edited: the bot writes its own, and edits only that', async () => {
  const server = await github();
  // Posted first by someone else, hoping the bot makes it its preview and they can edit it to say valid.
  server.comments.push({ id: 1, issue_number: 7, body: MARKED, user: { login: 'mallory', type: 'User' } });
  server.comments.push({ id: 2, issue_number: 7, body: MARKED, user: { login: 'github-actions', type: 'User' } });
  server.comments.push({ id: 3, issue_number: 7, body: MARKED, user: { login: 'other-app[bot]', type: 'Bot' } });
  const client = openClient('t0ken', contextFor(server));
  const body = (n: number) => previewCommentBody(`# Scenarios\n❌ ${n} problem(s)`, { runUrl: RUN_URL });
  const first = await upsertPreviewComment(client, TARGET, 7, body(1));
  const second = await upsertPreviewComment(client, TARGET, 7, body(2));
  assert.deepEqual([first.kind, second.kind], ['created', 'updated']);
  assert.equal(second.kind === 'updated' && second.id, 1000);
  assert.deepEqual(
    server.comments.map((c) => [c.id, c.body === MARKED]),
    [
      [1, true],
      [2, true],
      [3, true],
      [1000, false],
    ],
  );
  assert.match(server.comments[3]!.body, /❌ 2 problem/);
  assert.ok(server.requests.every((r) => r.method !== 'PATCH' || r.path.endsWith('/1000')));
});

test('with a personal token (GET /user answers), its own comment is found by login; a bot with the same name is not it', async () => {
  const server = await github({ identity: { login: 'shop-owner', type: 'User' } });
  server.comments.push({ id: 1, issue_number: 7, body: MARKED, user: { login: 'shop-owner[bot]', type: 'Bot' } });
  const client = openClient('t0ken', contextFor(server));
  await upsertPreviewComment(client, TARGET, 7, previewCommentBody('# one', { runUrl: RUN_URL }));
  const again = await upsertPreviewComment(client, TARGET, 7, previewCommentBody('# two', { runUrl: RUN_URL }));
  assert.deepEqual(again, { kind: 'updated', id: 1000, url: undefined });
  assert.equal(server.comments[0]!.body, MARKED);
  assert.ok(!server.calls().includes('POST /graphql'), 'GET /user answered: GraphQL is not asked');
});

test('when neither GET /user nor GraphQL says who the token is, the workflow bot is assumed', async () => {
  const server = await github({ noGraphql: true });
  const client = openClient('t0ken', contextFor(server));
  await upsertPreviewComment(client, TARGET, 7, previewCommentBody('# one', { runUrl: RUN_URL }));
  const again = await upsertPreviewComment(client, TARGET, 7, previewCommentBody('# two', { runUrl: RUN_URL }));
  assert.equal(again.kind, 'updated');
  assert.equal(server.comments.length, 1);
});

test("a fork's read-only token (403) falls back to the job summary with a notice, not a failure", async () => {
  const server = await github({ readOnly: true });
  process.env['INPUT_GITHUB-TOKEN'] = 't0ken';
  const fork = contextFor(server, { head: { sha: 'b'.repeat(40), repo: { full_name: 'someone/line' } } });
  const notice = await commentPreview('# Scenarios\n✅ 1 scenario(s) valid.\n', fork);
  assert.match(
    notice,
    /^> \[!NOTE\]\n> The preview could not be posted as a comment on the pull request: this pull request comes from a fork/,
  );
  assert.deepEqual(server.calls(), [
    'GET /repos/shop/line/issues/7/comments?per_page=100',
    'POST /repos/shop/line/issues/7/comments',
  ]);
  assert.equal(server.comments.length, 0);
  assert.equal(process.exitCode ?? 0, 0, 'the check does not fail for it');
});

test('a 403 on a pull request from the same repository names the missing permission', async () => {
  const server = await github({ readOnly: true });
  process.env['INPUT_GITHUB-TOKEN'] = 't0ken';
  const notice = await commentPreview('# Scenarios\n', contextFor(server));
  assert.match(notice, /grant `pull-requests: write` in the workflow/);
});

test('no comment is written outside a pull request', async () => {
  const server = await github();
  process.env['INPUT_GITHUB-TOKEN'] = 't0ken';
  const push = { ...contextFor(server), eventName: 'push', payload: {} };
  assert.equal(await commentPreview('# Scenarios\n', push), '');
  assert.deepEqual(server.calls(), []);
});

function longPreview(): string {
  const edges = Array.from(
    { length: 400 },
    (_, i) => `  s${i}["step ${i}: a reminder with a long label"] --> s${i + 1}`,
  );
  const diagram = ['```mermaid', 'flowchart TD', ...edges, '```'];
  const out = ['# Scenarios', '✅ 30 scenario(s) valid.'];
  for (let s = 0; s < 30; s++)
    out.push('', `## scenario-${s}`, '', ...diagram, '', '| when | step |', '|---|---|', '| day 1 10:00 | first |');
  return out.join('\n');
}

test('a preview longer than a comment may be is cut below 65,536 characters, with a link to the summary', async () => {
  const markdown = longPreview();
  assert.ok(markdown.length > 2 * COMMENT_LIMIT);
  const server = await github();
  const body = previewCommentBody(markdown, { runUrl: RUN_URL, headSha: 'b'.repeat(40) });
  await upsertPreviewComment(openClient('t0ken', contextFor(server)), TARGET, 7, body);
  const posted = server.requests.find((r) => r.method === 'POST')!.body!.body as string;
  assert.ok(posted.length < COMMENT_LIMIT, `${posted.length} characters`);
  assert.ok(posted.startsWith(PREVIEW_MARKER));
  assert.match(
    posted,
    /The preview is cut here.*\[the run's job summary\]\(https:\/\/github\.com\/shop\/line\/actions\/runs\/42\)/,
  );
  assert.match(posted, /Preview of bbbbbbb/);
  const fences = posted.split('\n').filter((l) => l.startsWith('```')).length;
  assert.equal(fences % 2, 0, 'every fenced block is closed');
  const lastDiagram = posted.lastIndexOf('```mermaid');
  assert.ok(posted.slice(lastDiagram).includes('s400'), 'the last diagram kept is whole');
});

test('a cut inside a code block closes it; a cut inside a diagram leaves the diagram out', () => {
  assert.equal(cutMarkdown('# a\n```\nline one\nline two\nline three\n```', 25), '# a\n```\nline one\n```');
  assert.equal(cutMarkdown('# a\n```mermaid\nflowchart TD\n  a --> b\n  b --> c\n```', 40), '# a');
  assert.equal(previewCommentBody('# short', { runUrl: RUN_URL }).includes('cut here'), false);
});
