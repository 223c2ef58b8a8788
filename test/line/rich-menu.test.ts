// Rich menu batches through the real @line/bot-sdk against the loopback LINE server: which
// endpoint, the alias looked up once, and how LINE's answers are classed.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { LineSender } from '../../src/line/line-sender.js';
import type { RichMenuBatch } from '../../src/domain.js';
import { LineServer } from '../support/line-server.js';

const servers: LineServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const MENU = `richmenu-${'c'.repeat(32)}`;

async function setup() {
  const server = await new LineServer().start();
  servers.push(server);
  server.richMenuIds.add(MENU);
  server.aliases.set('member-menu', MENU);
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 300,
    maxRetries: 2,
  });
  return { server, sender };
}

const batch = (over: Partial<RichMenuBatch> = {}): RichMenuBatch => ({
  id: randomUUID(),
  scenarioId: 's',
  stepId: 'switch',
  kind: 'richmenu_link',
  messages: [{ type: 'richmenu', richMenuId: MENU }],
  recipients: [U(1)],
  aggregationUnit: null,
  attempts: 1,
  createdAt: 0,
  ...over,
});

test('one recipient: the per-user endpoints; several: the bulk ones, with every user id in one request', async () => {
  const { server, sender } = await setup();
  const users = Array.from({ length: 500 }, (_, i) => U(i + 1));
  assert.equal((await sender.richMenu(batch())).outcome, 'sent');
  assert.equal((await sender.richMenu(batch({ recipients: users }))).outcome, 'sent');
  assert.equal(
    (await sender.richMenu(batch({ kind: 'richmenu_unlink', messages: [{ type: 'richmenu', unlink: true }] }))).outcome,
    'sent',
  );
  assert.equal(
    (
      await sender.richMenu(
        batch({
          kind: 'richmenu_unlink',
          messages: [{ type: 'richmenu', unlink: true }],
          recipients: users.slice(0, 2),
        }),
      )
    ).outcome,
    'sent',
  );
  assert.deepEqual(
    server.richMenuCalls.map((c) => [c.kind, c.users.length]),
    [
      ['link', 1],
      ['bulk-link', 500],
      ['unlink', 1],
      ['bulk-unlink', 2],
    ],
  );
  assert.deepEqual(
    server.requests.map((r) => [r.path.replace(/U[0-9a-f]{32}/, '{user}'), r.status]),
    [
      [`/v2/bot/user/{user}/richmenu/${MENU}`, 200],
      ['/v2/bot/richmenu/bulk/link', 202],
      ['/v2/bot/user/{user}/richmenu', 200],
      ['/v2/bot/richmenu/bulk/unlink', 202],
    ],
  );
  assert.equal(server.linked.get(U(1)), undefined);
  assert.equal(server.linked.get(U(3)), MENU);
});

test('an alias is looked up once per sender (a tick); an unknown one fails its batches with the alias named', async () => {
  const { server, sender } = await setup();
  const byAlias = (alias: string, user: number) =>
    sender.richMenu(batch({ messages: [{ type: 'richmenu', alias }], recipients: [U(user)] }));
  assert.equal((await byAlias('member-menu', 1)).outcome, 'sent');
  assert.equal((await byAlias('member-menu', 2)).outcome, 'sent');
  const unknown = await byAlias('no-such-menu', 3);
  assert.equal(unknown.outcome, 'failed');
  assert.match(unknown.error?.message ?? '', /unknown rich menu alias "no-such-menu": richmenu alias not found/);
  assert.equal((await byAlias('no-such-menu', 4)).outcome, 'failed');
  const lookups = server.requests.filter((r) => r.path.startsWith('/v2/bot/richmenu/alias/'));
  assert.deepEqual(
    lookups.map((r) => [r.path, r.status]),
    [
      ['/v2/bot/richmenu/alias/member-menu', 200],
      ['/v2/bot/richmenu/alias/no-such-menu', 404],
    ],
  );
  assert.equal(server.linked.get(U(2)), MENU);
  assert.equal(server.linked.size, 2);
});

test("LINE's answers: 5xx retried, no answer at all is uncertain, an unknown rich menu fails, a refused token stops", async () => {
  const { server, sender } = await setup();
  server.faults.push({ kind: 'status', status: 500 });
  assert.equal((await sender.richMenu(batch())).outcome, 'sent', 'retried after the 500');

  for (let i = 0; i < 3; i++) server.faults.push({ kind: 'drop' });
  const dropped = await sender.richMenu(batch({ recipients: [U(2)] }));
  assert.equal(dropped.outcome, 'uncertain', 'linking again later is harmless');

  const missing = await sender.richMenu(
    batch({ messages: [{ type: 'richmenu', richMenuId: `richmenu-${'d'.repeat(32)}` }] }),
  );
  assert.deepEqual(
    [missing.outcome, missing.error?.status, missing.error?.message],
    ['failed', 404, 'rich menu not linked: richmenu not found (LINE answered 404)'],
  );

  const refused = new LineSender({ channelAccessToken: 'wrong', baseURL: server.url, backoffMs: 5, timeoutMs: 300 });
  const stop = await refused.richMenu(batch());
  assert.deepEqual([stop.outcome, stop.stop], ['deferred', 'unauthorized']);
});

test('the loopback server checks bulk bodies as LINE does: 1-500 user ids of the right form, a rich menu id of the right form', async () => {
  const { server } = await setup();
  const post = (body: unknown) =>
    fetch(`${server.url}/v2/bot/richmenu/bulk/link`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.status);
  assert.equal(await post({ richMenuId: MENU, userIds: [] }), 400);
  assert.equal(await post({ richMenuId: MENU, userIds: Array.from({ length: 501 }, (_, i) => U(i)) }), 400);
  assert.equal(await post({ richMenuId: MENU, userIds: ['someone'] }), 400);
  assert.equal(await post({ richMenuId: 'richmenu-XYZ', userIds: [U(1)] }), 400);
  assert.equal(await post({ richMenuId: MENU, userIds: [U(1)] }), 202);
  assert.equal(server.richMenuCalls.length, 1);
});
