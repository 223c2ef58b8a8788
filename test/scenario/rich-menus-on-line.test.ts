// validate --line: the rich menus and aliases the scenarios name, checked against the
// channel's own through the real @line/bot-sdk client, answered by a loopback server.
import { afterAll, beforeAll, test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateScenarios } from '../../src/commands/validate.js';
import { main } from '../../src/cli/main.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { baseScenario, toText } from '../support/scenarios.js';

const TOKEN = 'test-channel-token-abc';
const MEMBER_MENU = `richmenu-${'a'.repeat(32)}`;
const GUEST_MENU = `richmenu-${'0123456789abcdef'.repeat(2)}`;

interface Channel {
  requests: { path: string; authorization: string | undefined }[];
  /** What the server does with the next requests. */
  behaviour: 'answer' | 'fail-500' | 'hang';
}

const channel: Channel = { requests: [], behaviour: 'answer' };
let server: Server;
let baseURL: string;

function answer(req: IncomingMessage, res: ServerResponse): void {
  channel.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
  if (channel.behaviour === 'hang') return; // never answers: the client's timeout must end it
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { message: 'Authentication failed' });
  if (channel.behaviour === 'fail-500') return json(500, { message: 'An error occurred' });
  if (req.method === 'GET' && req.url === '/v2/bot/richmenu/alias/list')
    return json(200, {
      aliases: [
        { richMenuAliasId: 'member-menu', richMenuId: MEMBER_MENU },
        { richMenuAliasId: 'guest-menu', richMenuId: GUEST_MENU },
      ],
    });
  if (req.method === 'GET' && req.url === '/v2/bot/richmenu/list')
    return json(200, { richmenus: [{ richMenuId: MEMBER_MENU }, { richMenuId: GUEST_MENU }] });
  json(404, { message: 'Not found' });
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A scenario folder with one file whose second step switches the rich menu. */
async function folder(richMenu: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-richmenu-'));
  const scenario = baseScenario({
    steps: [
      { id: 'hello', type: 'message', messages: [{ type: 'text', text: 'hi' }] },
      {
        id: 'switch',
        type: 'action',
        wait: { after: { days: 1 } },
        ...(richMenu ? { richMenu } : { tags: { add: ['x'] } }),
      },
    ],
  } as never);
  await writeFile(join(dir, 'menu.json'), toText(scenario));
  return dir;
}

const check = async (richMenu: unknown, token = TOKEN, timeoutMs?: number) => {
  channel.requests = [];
  const dir = await folder(richMenu);
  return validateScenarios({
    dir,
    cwd: dir,
    line: { channelAccessToken: token, baseURL, ...(timeoutMs ? { timeoutMs } : {}) },
  });
};

test('an alias and a rich menu id the channel has pass, read with the channel token', async () => {
  for (const menu of [{ alias: 'member-menu' }, { id: GUEST_MENU }]) {
    const outcome = await check(menu);
    assert.deepEqual(outcome.result.issues.map(formatIssue), []);
    assert.deepEqual(outcome.lineCheck, { checked: true, references: 1, issues: [] });
    assert.deepEqual(channel.requests.map((r) => r.path).sort(), [
      '/v2/bot/richmenu/alias/list',
      '/v2/bot/richmenu/list',
    ]);
    assert.ok(channel.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
  }
});

test('an unknown alias is an error at its file, line and column, with the nearest alias', async () => {
  const outcome = await check({ alias: 'member-menus' });
  const [issue, ...rest] = outcome.result.issues;
  assert.equal(rest.length, 0);
  assert.equal(issue?.rule, 'rich-menu');
  assert.equal(issue.file, 'menu.json');
  assert.match(issue.message, /no rich menu alias "member-menus".*Did you mean "member-menu"\?/);
  assert.match(issue.message, /the channel has "member-menu", "guest-menu"/);
  assert.match(formatIssue(issue), /^menu\.json:\d+:\d+ \$\.steps\[1\]\.richMenu\.alias: /);
  // The position is the alias's line in the file as written.
  const text = toText(
    baseScenario({
      steps: [
        { id: 'hello', type: 'message', messages: [{ type: 'text', text: 'hi' }] },
        { id: 'switch', type: 'action', wait: { after: { days: 1 } }, richMenu: { alias: 'member-menus' } },
      ],
    } as never),
  );
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes('"alias": "member-menus"')) + 1;
  assert.equal(issue.line, line);
  assert.equal(issue.column, lines[line - 1]!.indexOf('"alias"') + 1);
  // And the preview says so too.
  assert.match(outcome.markdown, /member-menus/);
});

test('a well-formed rich menu id the channel does not have is an error, with the nearest id', async () => {
  const typo = `richmenu-${'a'.repeat(31)}b`;
  const outcome = await check({ id: typo });
  assert.equal(outcome.result.issues.length, 1);
  assert.match(outcome.result.issues[0]!.message, new RegExp(`no rich menu "${typo}".*Did you mean "${MEMBER_MENU}"`));
});

test('unlink and scenarios without rich menus do not call LINE', async () => {
  for (const menu of [{ unlink: true }, undefined]) {
    const outcome = await check(menu);
    assert.deepEqual(outcome.lineCheck, { checked: true, references: 0, issues: [] });
    assert.equal(channel.requests.length, 0);
  }
});

test('a refused token: the check could not be done, said plainly, and the token is not printed', async () => {
  const outcome = await check({ alias: 'member-menu' }, 'wrong-token-xyz');
  assert.equal(outcome.lineCheck?.checked, false);
  const error = outcome.lineCheck && !outcome.lineCheck.checked ? outcome.lineCheck.error : '';
  assert.match(error, /could not check the rich menus on LINE: LINE refused the channel access token \(401\)/);
  assert.doesNotMatch(error, /wrong-token-xyz/);
  assert.deepEqual(outcome.result.issues, [], 'the offline checks still stand on their own');
});

test('LINE failing, not answering, or not there: a clear error, never a crash', async () => {
  channel.behaviour = 'fail-500';
  try {
    const failing = await check({ alias: 'member-menu' });
    assert.ok(failing.lineCheck && !failing.lineCheck.checked);
    assert.match(failing.lineCheck.error, /could not check the rich menus on LINE: LINE answered 500/);
    channel.behaviour = 'hang';
    const hanging = await check({ alias: 'member-menu' }, TOKEN, 200);
    assert.ok(hanging.lineCheck && !hanging.lineCheck.checked);
    assert.match(hanging.lineCheck.error, /no answer from LINE within 200 ms/);
  } finally {
    channel.behaviour = 'answer';
  }
  // A port with nothing behind it.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const dir = await folder({ alias: 'member-menu' });
  const gone = await validateScenarios({
    dir,
    cwd: dir,
    line: { channelAccessToken: TOKEN, baseURL: `http://127.0.0.1:${port}` },
  });
  assert.ok(gone.lineCheck && !gone.lineCheck.checked);
  assert.match(
    gone.lineCheck.error,
    /^could not check the rich menus on LINE: fetch failed \(ECONNREFUSED\)\. Their format was checked/,
  );
});

/** The CLI's validate, its output captured, with the given environment. */
async function cli(args: string[], env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    delete process.env.LINE_CHANNEL_ACCESS_TOKEN;
    delete process.env.LINE_API_BASE_URL;
    Object.assign(process.env, env);
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.env = saved;
  }
}

test('CLI validate --line: an unknown alias fails with file:line:col; without a token it says what to set', async () => {
  const dir = await folder({ alias: 'member-menus' });
  const env = { LINE_CHANNEL_ACCESS_TOKEN: TOKEN, LINE_API_BASE_URL: baseURL };
  const offline = await cli(['validate', dir], env);
  assert.equal(offline.code, 0, 'without --line the format is all that is checked');
  const online = await cli(['validate', dir, '--line'], env);
  assert.equal(online.code, 1);
  assert.match(online.stderr, /menu\.json:\d+:\d+ \$\.steps\[1\]\.richMenu\.alias: there is no rich menu alias/);
  assert.match(online.stdout, /1 problem\(s\) found/);
  const good = await cli(['validate', await folder({ alias: 'guest-menu' }), '--line'], env);
  assert.equal(good.code, 0, good.stderr);
  const noToken = await cli(['validate', dir, '--line'], { LINE_API_BASE_URL: baseURL });
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /--line: set LINE_CHANNEL_ACCESS_TOKEN/);
  channel.behaviour = 'fail-500';
  try {
    const down = await cli(['validate', await folder({ alias: 'guest-menu' }), '--line'], env);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error: could not check the rich menus on LINE: LINE answered 500/m);
    assert.doesNotMatch(down.stderr + down.stdout, new RegExp(TOKEN));
  } finally {
    channel.behaviour = 'answer';
  }
});
