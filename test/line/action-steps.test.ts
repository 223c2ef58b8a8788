// Action steps (issue 18) through whole ticks: the store, the real SDK and the loopback LINE
// server. Tags and attributes change in line_users in the commit that advances the
// enrollment, visible at once to later steps and the user's other scenarios; events record
// each change; the rich menu is linked through the outbox, once per user.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import type { CompiledScenario } from '../../src/scenario/compile.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { NoLineSender, type Sender } from '../../src/line/sender.js';
import { pgliteStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';
import { tickSummary } from '../../src/report/summary.js';
import { STEP_EVENT_TYPES } from '../../src/contract/event-rules.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const MEMBER_MENU = `richmenu-${'a'.repeat(32)}`;
const GUEST_MENU = `richmenu-${'b'.repeat(32)}`;
const servers: LineServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

function compile(...scenarios: Scenario[]): CompiledScenario[] {
  const loaded = loadScenarioTexts(scenarios.map((s) => ({ file: `${s.id}.json`, text: JSON.stringify(s) })));
  assert.deepEqual(
    loaded.issues.map((i) => i.message),
    [],
  );
  return loaded.scenarios.map((s) => s.compiled);
}

const text = (t: string) => [{ type: 'text' as const, text: t }];

/** Signs a user up: tags them vip (unless they are over the limit), links the member menu, branches on the tag. */
const signup: Scenario = {
  id: 'signup',
  version: 1,
  entry: { trigger: { type: 'event', event: 'signed_up' } },
  steps: [
    {
      id: 'make-member',
      type: 'action',
      tags: { add: ['vip', 'member'], remove: ['guest'] },
      attributes: { set: { plan: 'gold', points: 10 }, clear: ['trial'] },
      richMenu: { alias: 'member-menu' },
    },
    {
      id: 'is-vip',
      type: 'branch',
      branches: [{ when: { field: 'user.tags', contains: 'vip' }, next: 'vip-hello' }],
      default: 'plain-hello',
    },
    { id: 'vip-hello', type: 'message', messages: text('welcome, member'), next: 'end' },
    { id: 'plain-hello', type: 'message', messages: text('welcome') },
  ],
};

/** Another scenario, entered just after: planned after the action in the same page, it sees the tag. */
const sameTick: Scenario = {
  id: 'same-tick',
  version: 1,
  entry: { trigger: { type: 'event', event: 'visited' } },
  steps: [
    {
      id: 'check',
      type: 'branch',
      branches: [{ when: { field: 'user.tags', contains: 'vip' }, next: 'vip-note' }],
      default: 'plain-note',
    },
    { id: 'vip-note', type: 'message', messages: text('vip note'), next: 'end' },
    { id: 'plain-note', type: 'message', messages: text('plain note') },
  ],
};

/** Triggered by the tag_added event the action recorded. */
const onTag: Scenario = {
  id: 'on-vip-tag',
  version: 1,
  entry: { trigger: { type: 'event', event: 'tag_added', where: { tag: 'vip' } } },
  steps: [{ id: 'perks', type: 'message', messages: text('your vip perks') }],
};

async function setup(scenarios: CompiledScenario[]) {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
  const server = await new LineServer({ now: clock.now }).start();
  servers.push(server);
  server.richMenuIds.add(MEMBER_MENU).add(GUEST_MENU);
  server.aliases.set('member-menu', MEMBER_MENU);
  const { store, db } = await pgliteStore();
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 300,
  });
  await runTick({ store, sender, scenarios, now: clock.now }); // switched on
  clock.advance(60_000);
  const signUp = async (...users: string[]) => {
    for (const u of users)
      await db.query(
        `insert into events (line_user_id, type, occurred_at) values ($1, 'signed_up', to_timestamp($2 / 1000.0))`,
        [u, clock.t],
      );
  };
  const tick = (s: Sender = sender, options: { leaseSeconds?: number } = {}) =>
    runTick({ store, sender: s, scenarios, now: clock.now, ...options });
  // (Sorted: two batches of one tick go out side by side, in either order.)
  const texts = (user: string) =>
    server
      .inbox(user)
      .map((m) => (m[0] as { text: string }).text)
      .sort();
  const attributesOf = async (user: string) =>
    (
      await db.query<{ attributes: Record<string, unknown> }>(
        `select attributes from line_users where line_user_id = $1`,
        [user],
      )
    )[0]?.attributes;
  return { clock, server, store, db, sender, signUp, tick, texts, attributesOf };
}

test('an action step tags the user, sets and clears attributes, links the menu by alias in one bulk request, and a later branch sees the tag', async () => {
  const { clock, server, db, signUp, tick, texts, attributesOf } = await setup(compile(signup, sameTick, onTag));
  await db.query(
    `insert into line_users (line_user_id, attributes) values ($1, '{"tags": ["guest"], "trial": true, "region": "kanto"}')`,
    [U(1)],
  );
  await signUp(U(1), U(2), U(3));
  for (const u of [U(1), U(2), U(3)])
    await db.query(
      `insert into events (line_user_id, type, occurred_at) values ($1, 'visited', to_timestamp($2 / 1000.0 + 30))`,
      [u, clock.t],
    );
  clock.advance(2 * 60_000);
  const r = await tick();
  // (One tick took the events in and planned both enrollments in one page, the signup's first.)

  for (const u of [U(1), U(2), U(3)]) {
    // The same scenario's branch, and another scenario planned after it in the same page.
    assert.deepEqual(texts(u), ['vip note', 'welcome, member']);
    assert.equal(server.linked.get(u), MEMBER_MENU);
  }
  assert.deepEqual(await attributesOf(U(1)), { tags: ['vip', 'member'], plan: 'gold', points: 10, region: 'kanto' });
  assert.deepEqual(await attributesOf(U(2)), { tags: ['vip', 'member'], plan: 'gold', points: 10 });
  assert.deepEqual(
    server.richMenuCalls.map((c) => [c.kind, c.users.length, c.richMenuId]),
    [['bulk-link', 3, MEMBER_MENU]],
    'one bulk request for the three users',
  );
  const summary = tickSummary(r, { now: clock.t, store: 'PGlite', sender: 'LINE', mode: 'send', intervalMinutes: 5 });
  assert.match(
    summary,
    /Actions: tags changed: 3 user\(s\) · attributes changed: 3 user\(s\) · rich menu changes planned: 3 · rich menu links: 3/,
  );
  assert.match(summary, /\| signup \| make-member \|[^\n]*\| 3 \|/, 'the step counts 3 actions');
  assert.ok(![U(1), U(2), U(3)].some((u) => summary.includes(u)), 'no user id');
  assert.deepEqual(r.counts.actions, {
    tagUsers: 3,
    attributeUsers: 3,
    richMenuPlanned: 3,
    richMenuLinks: 3,
    richMenuUnlinks: 0,
  });

  const events = await db.query<{ type: string; properties: Record<string, unknown>; source: string }>(
    `select type, properties, source from events where line_user_id = $1 and source = 'step' order by id`,
    [U(1)],
  );
  assert.deepEqual(
    events.map((e) => [e.type, e.properties.tag ?? e.properties.name ?? e.properties.alias]),
    [
      ['tag_added', 'vip'],
      ['tag_added', 'member'],
      ['tag_removed', 'guest'],
      ['attribute_cleared', 'trial'],
      ['attribute_set', 'plan'],
      ['attribute_set', 'points'],
      ['richmenu_linked', 'member-menu'],
    ],
  );
  assert.equal(events[0]!.properties.scenario, 'signup');
  const types = await db.query<{ type: string }>(`select distinct type from events where source = 'step'`);
  assert.ok(
    types.every((t) => (STEP_EVENT_TYPES as readonly string[]).includes(t.type)),
    'the contract names them',
  );

  // The next tick takes the tag_added events in: the scenario they trigger runs.
  clock.advance(60_000);
  await tick();
  for (const u of [U(1), U(2), U(3)]) assert.deepEqual(texts(u), ['vip note', 'welcome, member', 'your vip perks']);

  // Nothing is applied, recorded or linked twice.
  clock.advance(60_000);
  await tick();
  const [{ n }] = (await db.query<{ n: string }>(`select count(*)::text as n from events where source = 'step'`)) as [
    { n: string },
  ];
  assert.equal(n, String(7 + 5 + 5), 'U(2) and U(3) had no guest tag or trial attribute to remove');
  assert.equal(server.richMenuCalls.length, 1);
});

test('the 101st tag fails that user’s step with the reason; the others are tagged and the tick goes on', async () => {
  const { clock, server, db, signUp, tick, texts, attributesOf } = await setup(compile(signup));
  const full = Array.from({ length: 99 }, (_, i) => `t${i}`);
  await db.query(`insert into line_users (line_user_id, attributes) values ($1, $2)`, [
    U(1),
    JSON.stringify({ tags: full }),
  ]);
  await signUp(U(1), U(2));
  clock.advance(60_000);
  const r = await tick();
  assert.deepEqual(texts(U(1)), ['welcome'], 'not tagged: the branch takes the default');
  assert.deepEqual(texts(U(2)), ['welcome, member']);
  assert.deepEqual(await attributesOf(U(1)), { tags: full });
  assert.equal(server.linked.get(U(1)), undefined, 'nor is the menu linked');
  assert.equal(server.linked.get(U(2)), MEMBER_MENU);
  const rows = await db.query<{ kind: string; status: string; reason: string }>(
    `select kind, status, reason from deliveries where line_user_id = $1 and step_id = 'make-member'`,
    [U(1)],
  );
  assert.deepEqual(
    rows.map((x) => [x.kind, x.status]),
    [['fail', 'skipped']],
  );
  assert.match(rows[0]!.reason, /101 tags; at most 100/);
  assert.equal(r.counts.total('failed'), 1);
});

test('the store checks the tag limit again: a user tagged meanwhile fails alone, and the rich menu is not linked for them', async () => {
  const { clock, server, db, signUp, tick, attributesOf } = await setup(compile(signup));
  await signUp(U(1), U(2));
  clock.advance(60_000);
  // The tags arrive after the planner read the user (between the claim and the commit).
  const full = Array.from({ length: 100 }, (_, i) => `t${i}`);
  const racing: Sender = {
    label: 'LINE',
    send: async () => ({ outcome: 'sent' }),
  };
  // Planned with the tags the claim read; 100 tags are there by the time the commit applies them.
  await db.query(
    `create or replace function tag_race() returns trigger language plpgsql as $$
     begin
       insert into line_users (line_user_id, attributes) values ('${U(1)}', '{"tags": ${JSON.stringify(full)}}')
       on conflict (line_user_id) do update set attributes = excluded.attributes;
       return null;
     end $$`,
  );
  await db.query(
    `create trigger tag_race after update on enrollments for each row
     when (old.lease_owner is not null and new.lease_owner is null) execute function tag_race()`,
  );
  await tick(racing);
  assert.deepEqual((await attributesOf(U(1)))?.tags, full);
  assert.deepEqual((await attributesOf(U(2)))?.tags, ['vip', 'member']);
  const rows = await db.query<{ line_user_id: string; kind: string; status: string }>(
    `select line_user_id, kind, status from deliveries where step_id = 'make-member' order by line_user_id`,
  );
  assert.deepEqual(
    rows.map((x) => [x.line_user_id, x.kind]),
    [
      [U(1), 'fail'],
      [U(2), 'act'],
    ],
  );
  const [batch] = await db.query<{ recipients: string[]; kind: string }>(
    `select recipients, kind from outbox_batches where kind like 'richmenu%'`,
  );
  assert.deepEqual(batch?.recipients, [U(2)]);
  assert.equal(server.richMenuCalls.length, 0, 'this tick did not call LINE');
});

test('a crash between LINE’s answer and the record: the next tick links again (harmless), and the link is recorded once', async () => {
  const { clock, server, db, signUp, tick, sender } = await setup(compile(signup));
  await signUp(U(1));
  clock.advance(60_000);
  const crashing: Sender = {
    label: 'crashes after LINE linked the menu',
    send: (batch) => sender.send(batch),
    richMenu: async (batch) => {
      await sender.richMenu(batch);
      throw new Error('process killed');
    },
  };
  await assert.rejects(tick(crashing, { leaseSeconds: 60 }), /process killed/);
  assert.equal(server.linked.get(U(1)), MEMBER_MENU, 'LINE linked it');
  const [pending] = await db.query<{ status: string }>(`select status from outbox_batches where kind like 'richmenu%'`);
  assert.equal(pending?.status, 'pending', 'not recorded');
  clock.advance(2 * 60_000); // the lease runs out
  await tick();
  assert.deepEqual(
    server.richMenuCalls.map((c) => c.kind),
    ['link', 'link'],
    'the per-user endpoint, once more',
  );
  assert.equal(server.linked.get(U(1)), MEMBER_MENU);
  const recorded = await db.query<{ status: string }>(
    `select d.status from deliveries d where d.kind = 'act' and d.line_user_id = $1`,
    [U(1)],
  );
  assert.deepEqual(
    recorded.map((x) => x.status),
    ['sent'],
  );
  const linked = await db.query(`select 1 from events where type = 'richmenu_linked'`);
  assert.equal(linked.length, 1);
});

test('an unknown alias fails those users’ rich menu change with LINE’s reason, not the tick; a server error is retried', async () => {
  const unknown: Scenario = {
    ...signup,
    steps: [{ id: 'switch', type: 'action', richMenu: { alias: 'no-such-menu' } }],
  };
  const byId: Scenario = {
    ...signup,
    id: 'by-id',
    entry: { trigger: { type: 'event', event: 'upgraded' } },
    steps: [{ id: 'switch', type: 'action', richMenu: { id: GUEST_MENU } }],
  };
  const { clock, server, db, signUp, tick } = await setup(compile(unknown, byId));
  await signUp(U(1));
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'upgraded', to_timestamp($2 / 1000.0))`,
    [U(2), clock.t],
  );
  server.faults.push({ kind: 'status', status: 500 });
  clock.advance(60_000);
  const r = await tick();
  assert.equal(r.stoppedBy, undefined);
  const rows = await db.query<{ line_user_id: string; status: string; error: { message: string } | null }>(
    `select d.line_user_id, d.status, b.error from deliveries d join outbox_batches b on b.id = d.batch_id order by d.line_user_id`,
  );
  assert.deepEqual(
    rows.map((x) => [x.line_user_id, x.status]),
    [
      [U(1), 'failed'],
      [U(2), 'sent'],
    ],
  );
  assert.match(rows[0]!.error!.message, /unknown rich menu alias "no-such-menu"/);
  assert.equal(server.linked.get(U(2)), GUEST_MENU, 'linked after the 500 was retried');
  assert.equal(r.counts.failures[0]?.stepId, 'switch');
});

test('a user’s rich menu changes go out in order: while an earlier one is unsettled, a later one waits', async () => {
  const link: Scenario = {
    ...signup,
    steps: [{ id: 'link', type: 'action', richMenu: { id: MEMBER_MENU } }],
  };
  const unlink: Scenario = {
    ...signup,
    id: 'unlink-later',
    entry: { trigger: { type: 'event', event: 'downgraded' } },
    steps: [{ id: 'unlink', type: 'action', richMenu: { unlink: true } }],
  };
  const { clock, server, db, signUp, tick } = await setup(compile(link, unlink));
  await signUp(U(1));
  clock.advance(60_000);
  // The link's batch is committed, and LINE does not answer it.
  const down: Sender = {
    label: 'LINE down',
    send: async () => ({ outcome: 'uncertain' }),
    richMenu: async () => ({ outcome: 'uncertain', error: { message: 'timeout' } }),
  };
  await tick(down);
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'downgraded', to_timestamp($2 / 1000.0))`,
    [U(1), clock.t],
  );
  clock.advance(60_000);
  // LINE fails the link again (every retry): the newer unlink must not go out before it.
  for (let i = 0; i < 5; i++) server.faults.push({ kind: 'status', status: 500 });
  await tick();
  assert.equal(server.richMenuCalls.length, 0, 'LINE did not link it, so the unlink waited');
  const statuses = await db.query<{ kind: string; status: string; error: { message: string } | null }>(
    `select kind, status, error from outbox_batches order by created_at`,
  );
  assert.deepEqual(
    statuses.map((b) => [b.kind, b.status]),
    [
      ['richmenu_link', 'pending'],
      ['richmenu_unlink', 'pending'],
    ],
  );
  assert.match(statuses[1]!.error!.message, /held back: an earlier rich menu change/);
  clock.advance(60_000);
  await tick(); // the older first, then the newer
  assert.deepEqual(
    server.richMenuCalls.map((c) => c.kind),
    ['link', 'unlink'],
  );
  assert.equal(server.linked.get(U(1)), undefined, 'the newer change wins');
});

test('a plan-only run counts the actions it would take and changes nothing: no tag, no event, no rich menu', async () => {
  const { clock, server, db, signUp, store, attributesOf } = await setup(compile(signup));
  await signUp(U(1), U(2));
  clock.advance(60_000);
  const r = await runTick({
    store,
    sender: new NoLineSender(),
    scenarios: compile(signup),
    now: clock.now,
    mode: 'plan-only',
  });
  assert.deepEqual(r.counts.actions, {
    tagUsers: 2,
    attributeUsers: 2,
    richMenuPlanned: 2,
    richMenuLinks: 0,
    richMenuUnlinks: 0,
  });
  assert.equal(r.counts.byScenario.get('signup')?.get('make-member')?.acted, 2);
  assert.equal(await attributesOf(U(1)), undefined, 'no user row written');
  assert.equal((await db.query(`select 1 from events where source = 'step'`)).length, 0);
  assert.equal((await db.query(`select 1 from outbox_batches`)).length, 0);
  assert.equal(server.richMenuCalls.length, 0);
});

test('a user’s several acts in one page apply in plan order; a later one over the limit fails alone, in the store’s re-check too', async () => {
  const twoSteps: Scenario = {
    ...signup,
    steps: [
      { id: 'one', type: 'action', tags: { add: ['x1', 'x2'] } },
      { id: 'two', type: 'action', tags: { add: ['x3', 'x4'], remove: ['x1'] }, richMenu: { id: MEMBER_MENU } },
    ],
  };
  const { clock, server, db, signUp, tick, attributesOf } = await setup(compile(twoSteps));
  await signUp(U(1), U(2));
  clock.advance(60_000);
  // 98 tags arrive for U(1) after the planner read it: its first act still fits (100), its second does not.
  const tags98 = Array.from({ length: 98 }, (_, i) => `t${i}`);
  await db.query(
    `create or replace function tag_race() returns trigger language plpgsql as $$
     begin
       insert into line_users (line_user_id, attributes) values ('${U(1)}', '{"tags": ${JSON.stringify(tags98)}}')
       on conflict (line_user_id) do update set attributes = excluded.attributes;
       return null;
     end $$`,
  );
  await db.query(
    `create trigger tag_race after update on enrollments for each row
     when (old.lease_owner is not null and new.lease_owner is null and new.line_user_id = '${U(1)}') execute function tag_race()`,
  );
  await tick();
  assert.deepEqual((await attributesOf(U(2)))?.tags, ['x2', 'x3', 'x4']);
  assert.deepEqual((await attributesOf(U(1)))?.tags, [...tags98, 'x1', 'x2']);
  const events = await db.query<{ line_user_id: string; type: string; tag: string }>(
    `select line_user_id, type, properties->>'tag' as tag from events where source = 'step' and type like 'tag%' order by id`,
  );
  assert.deepEqual(
    events.filter((e) => e.line_user_id === U(2)).map((e) => `${e.type} ${e.tag}`),
    ['tag_added x1', 'tag_added x2', 'tag_added x3', 'tag_added x4', 'tag_removed x1'],
  );
  const rows = await db.query<{ step_id: string; kind: string; reason: string | null }>(
    `select step_id, kind, reason from deliveries where line_user_id = $1 order by step_id`,
    [U(1)],
  );
  assert.deepEqual(
    rows.map((r) => [r.step_id, r.kind]),
    [
      ['one', 'act'],
      ['two', 'fail'],
    ],
  );
  assert.match(rows[1]!.reason!, /101 tags/);
  assert.deepEqual([server.linked.get(U(1)), server.linked.get(U(2))], [undefined, MEMBER_MENU]);
});

test('an audience scenario ("users tagged vip") enrolls the users an action step tagged, at the next tick', async () => {
  const vipAudience: Scenario = {
    id: 'vip-audience',
    version: 1,
    entry: { trigger: { type: 'audience', condition: { field: 'user.tags', contains: 'vip' } } },
    steps: [{ id: 'hello-vip', type: 'message', messages: text('hello, vip') }],
  };
  const tagOnly: Scenario = { ...signup, steps: [{ id: 'tag', type: 'action', tags: { add: ['vip'] } }] };
  const { clock, signUp, tick, texts } = await setup(compile(tagOnly, vipAudience));
  await signUp(U(1));
  clock.advance(60_000);
  await tick();
  clock.advance(60_000);
  await tick();
  assert.deepEqual(texts(U(1)), ['hello, vip']);
});

test('a user who already has more than 100 tags (imported): a step that does not add to them goes through', async () => {
  const trim: Scenario = {
    ...signup,
    steps: [{ id: 'trim', type: 'action', tags: { remove: ['t0'] }, attributes: { set: { plan: 'gold' } } }],
  };
  const { clock, db, signUp, tick, attributesOf } = await setup(compile(trim));
  const many = Array.from({ length: 120 }, (_, i) => `t${i}`);
  await db.query(`insert into line_users (line_user_id, attributes) values ($1, $2)`, [
    U(1),
    JSON.stringify({ tags: many }),
  ]);
  await signUp(U(1));
  clock.advance(60_000);
  const r = await tick();
  assert.equal(r.counts.total('failed'), 0);
  assert.deepEqual(await attributesOf(U(1)), { tags: many.slice(1), plan: 'gold' });
});
