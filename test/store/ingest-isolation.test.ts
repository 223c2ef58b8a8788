// One bad event or one bad enrollment never stops delivery for everyone (issue 12): each
// example of the issue, among good events, on the real server. A bad event is set aside
// with a reason a person can act on (and no one's data); a bad enrollment fails alone.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { planAlone, runTick, type TickResult } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { tickSummary } from '../../src/report/summary.js';
import { failureReason, publicErrorMessage } from '../../src/contract/public-error.js';
import type { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { pgliteStore, serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = scenarios.map((s) => s.compiled);
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const START = Date.parse('2026-11-25T02:00:00Z'); // 11:00 in Tokyo: inside every send window
const MINUTE = 60_000;

const drops: (() => Promise<void>)[] = [];
after(async () => {
  for (const drop of drops) await drop();
});

async function server(): Promise<{ store: Store; db: SqlRpc; url: string }> {
  const s = await serverStore();
  drops.push(s.drop);
  return s;
}

/** Scenarios switched on a minute ago, so that events from now on enroll. */
async function switchedOn(store: Store): Promise<Clock> {
  const clock = new Clock(START);
  await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  clock.advance(MINUTE);
  return clock;
}

async function insert(
  db: SqlRpc,
  userId: string | null,
  type: string,
  properties: unknown,
  at: number | string,
  memberId?: string,
): Promise<string> {
  const occurred = typeof at === 'number' ? new Date(at).toISOString() : at;
  const [row] = await db.query<{ id: string }>(
    `insert into events (line_user_id, member_id, type, properties, occurred_at) values ($1, $2, $3, $4::jsonb, $5::timestamptz) returning id::text`,
    [
      userId,
      memberId ?? null,
      type,
      typeof properties === 'string' ? properties : JSON.stringify(properties),
      occurred,
    ],
  );
  return row!.id;
}

async function follows(db: SqlRpc, from: number, count: number, at: number): Promise<void> {
  await db.query(
    `insert into events (line_user_id, type, occurred_at) select 'U' || lpad(to_hex(g), 32, '0'), 'follow', to_timestamp($1 / 1000.0) from generate_series($2::int, $3::int) g`,
    [at, from, from + count - 1],
  );
}

/** Users (of those given) who were sent this step. */
async function sentTo(db: SqlRpc, step: string, users: string[]): Promise<string[]> {
  const rows = await db.query<{ line_user_id: string }>(
    `select distinct line_user_id from deliveries where scenario_id || '/' || step_id = $1 and kind = 'send' and status = 'sent' and line_user_id = any($2) order by 1`,
    [step, users],
  );
  return rows.map((r) => r.line_user_id);
}

async function eventRow(db: SqlRpc, id: string): Promise<{ status: string; status_reason: string | null }> {
  const [row] = await db.query<{ status: string; status_reason: string | null }>(
    `select status, status_reason from events where id = $1`,
    [id],
  );
  return row!;
}

const good = Array.from({ length: 80 }, (_, i) => U(i + 1));

test('one of each bad event of the issue among 80 good follows: all 80 welcomes go out, each bad event is set aside with its reason', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  const t = clock.t;
  // Bad events first and in the middle of the page: before, any one of them failed the whole page.
  const bad = {
    linkFirst: await insert(db, U(101), 'account_linked', { memberId: 'M-secret-7' }, t),
    linkAgain: await insert(db, U(102), 'account_linked', { memberId: 'M-secret-7' }, t),
    ageObject: await insert(db, U(103), 'profile_updated', { attributes: { age: { years: 31 } } }, t),
    linkedText: await insert(db, U(104), 'profile_updated', { attributes: { linked: 'secret-yes' } }, t),
    questionObject: await insert(
      db,
      U(105),
      'survey_answered',
      { survey: 'interests', question: { id: 'q1' }, answer: 'skincare' },
      t,
    ),
  };
  await follows(db, 1, 40, t);
  const deep = await insert(db, U(106), 'cart_abandoned', `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`, t);
  const forever = await insert(db, U(107), 'cart_abandoned', { total: 5000 }, 'infinity');
  const yearOne = await insert(db, U(108), 'cart_abandoned', { total: 5000 }, '0001-01-01T00:00:00Z');
  const in2030 = await insert(db, U(109), 'follow', {}, '2030-01-01T00:00:00Z');
  await follows(db, 41, 40, t);

  const result = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  assert.deepEqual(
    await sentTo(db, 'friend-welcome/welcome', good),
    good,
    'every good user got the welcome in the first tick',
  );

  assert.equal((await eventRow(db, bad.linkFirst)).status, 'done', 'the first link stands');
  const expected: [string, RegExp][] = [
    [bad.linkAgain, /^account_linked: this memberId is already linked to another LINE user/],
    [
      bad.ageObject,
      /^profile_updated: attributes\.age must be a string, a number, true\/false, null or a list of those, got an object$/,
    ],
    [bad.linkedText, /^profile_updated: attributes\.linked must be true or false, got a string$/],
    [bad.questionObject, /^survey_answered: question must be a string, got an object$/],
    [deep, /^properties nest deeper than 8 levels/],
    [forever, /^occurred_at is more than a day after now/],
    [yearOne, /^occurred_at is before 2000-01-01/],
    [in2030, /^occurred_at is more than a day after now/],
  ];
  for (const [id, reason] of expected) {
    const row = await eventRow(db, id);
    assert.equal(row.status, 'set_aside', `event ${id}`);
    assert.match(row.status_reason ?? '', reason);
  }
  const [linked] = await db.query<{ line_user_id: string }>(
    `select line_user_id from line_users where member_id = 'M-secret-7'`,
  );
  assert.equal(linked?.line_user_id, U(101));
  const [u104] = await db.query<{ attributes: Record<string, unknown> }>(
    `select attributes from line_users where line_user_id = $1`,
    [U(104)],
  );
  assert.equal(u104?.attributes.linked, undefined, 'nothing of a set-aside event is applied');
  assert.equal(result.counts.eventsSetAside, expected.length);

  // Where a person sees it: the summary counts each reason, with no one's data.
  const summary = tickSummary(result, {
    now: clock.t,
    store: 'test',
    sender: 'not called',
    mode: 'send',
    intervalMinutes: 5,
  });
  assert.match(summary, /## Events set aside in this tick/);
  assert.match(
    summary,
    /\| occurred\\_at is more than a day after now: check the clock, the time zone or the unit \| 2 \|/,
  );
  for (const secret of ['M-secret-7', 'secret-yes', U(102), U(104)])
    assert.ok(!summary.includes(secret), `the summary does not show ${secret}`);
  const reasons = await db.query<{ status_reason: string }>(
    `select status_reason from events where status = 'set_aside'`,
  );
  for (const r of reasons) assert.ok(!/M-secret|secret-yes|U0{20}/.test(r.status_reason), r.status_reason);

  // The next tick has nothing left over: the page did not stay new.
  clock.advance(5 * MINUTE);
  const next = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  assert.equal(next.counts.eventsTaken + next.counts.eventsSetAside, 0);
  assert.equal((await db.query(`select 1 from events where status = 'new'`)).length, 0);
});

test('a reservation date of 1e20 or in nanoseconds fails that enrollment alone, with the reason; the others get their steps and no tick fails', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  const visit = clock.t + 3 * 86_400_000;
  await insert(db, U(1), 'reservation_made', { reservationAt: 1e20, reservationLabel: 'secret-label' }, clock.t);
  await insert(db, U(2), 'reservation_made', { reservationAt: visit * 1_000_000 }, clock.t);
  await insert(db, U(3), 'reservation_made', { reservationAt: new Date(visit).toISOString() }, clock.t);
  const results: TickResult[] = [];
  for (let i = 0; i < 4; i++) {
    results.push(await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now }));
    clock.advance(5 * MINUTE);
  }
  // Everyone got the thanks; the good one waits for its reminder; the bad ones ended.
  assert.deepEqual(await sentTo(db, 'reservation/thanks', [U(1), U(2), U(3)]), [U(1), U(2), U(3)]);
  const enrollments = await db.query<{
    line_user_id: string;
    status: string;
    exit_reason: string | null;
    step_id: string;
  }>(
    `select line_user_id, status, exit_reason, step_id from enrollments where scenario_id = 'reservation' order by line_user_id`,
  );
  assert.deepEqual(
    enrollments.map((e) => [e.line_user_id, e.status, e.step_id]),
    [
      [U(1), 'exited', 'reminder'],
      [U(2), 'exited', 'reminder'],
      [U(3), 'active', 'reminder'],
    ],
  );
  assert.match(
    enrollments[0]!.exit_reason!,
    /^step "reminder": trigger\.reservationAt is not a date \(a number beyond the year 9999/,
  );
  assert.match(enrollments[1]!.exit_reason!, /nanoseconds/);
  const failed = await db.query<{ reason: string }>(
    `select reason from deliveries where kind = 'fail' order by line_user_id`,
  );
  assert.equal(failed.length, 2, 'one failed step each, recorded once: the enrollment is not claimed again');
  const failing = results.find((r) => r.counts.total('failed') > 0)!;
  const summary = tickSummary(failing, {
    now: clock.t,
    store: 'test',
    sender: 'not called',
    mode: 'send',
    intervalMinutes: 5,
  });
  assert.match(summary, /Needs a person/);
  assert.match(summary, /\| reservation \| reminder \| 2 \| — \| trigger\.reservationAt is not a date/);
  assert.ok(!summary.includes('secret-label'));
  assert.equal(
    results.reduce((n, r) => n + r.counts.total('failed'), 0),
    2,
    'counted once, in one tick',
  );
});

test('an event routing cannot compare, and an enrollment the planner throws on, stop only themselves', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  // {"toString": 1} cannot be turned into a string: comparing it throws a TypeError.
  const unroutable = await insert(
    db,
    U(1),
    'cart_abandoned',
    { total: { toString: 1 }, productName: 'secret-product' },
    clock.t,
  );
  await insert(
    db,
    U(2),
    'survey_answered',
    { survey: 'interests', question: 'q1', answer: 'a', category: { toString: 1 } },
    clock.t,
  );
  await insert(
    db,
    U(3),
    'survey_answered',
    { survey: 'interests', question: 'q1', answer: 'a', category: 'skincare' },
    clock.t,
  );
  await insert(db, U(4), 'cart_abandoned', { total: 5000, productName: 'Sneakers' }, clock.t);
  const results: TickResult[] = [];
  for (let i = 0; i < 16; i++) {
    results.push(await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now }));
    clock.advance(5 * MINUTE);
  }
  const row = await eventRow(db, unroutable);
  assert.equal(row.status, 'set_aside');
  assert.match(
    row.status_reason!,
    /^cart_abandoned: routing failed \(TypeError: Cannot convert object to primitive value\); it enrolled and ended no one$/,
  );
  assert.deepEqual(await sentTo(db, 'survey-answer/skincare', [U(3)]), [U(3)]);
  assert.deepEqual(await sentTo(db, 'cart-abandoned/reminder', [U(4)]), [U(4)]);
  const [bad] = await db.query<{ status: string; exit_reason: string }>(
    `select status, exit_reason from enrollments where line_user_id = $1`,
    [U(2)],
  );
  assert.equal(bad?.status, 'exited');
  assert.match(
    bad.exit_reason,
    /^failed: step "by-category": the planner failed on this enrollment \(TypeError: Cannot convert object to primitive value\)$/,
  );
  const [fail] = await db.query<{ step_id: string; status: string }>(
    `select step_id, status from deliveries where kind = 'fail' and line_user_id = $1`,
    [U(2)],
  );
  assert.deepEqual(fail, { step_id: 'by-category', status: 'skipped' });
  assert.equal(
    results.reduce((n, r) => n + r.counts.total('failed'), 0),
    1,
  );
  assert.ok(
    results.some((r) =>
      r.counts.failures.some((f) => f.stepId === 'by-category' && /the planner failed/.test(f.reason)),
    ),
  );
});

test('300 events of about 0.9 MB each are set aside, and the good events among them are taken in by the same tick', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  await follows(db, 1, 10, clock.t);
  // Written on the server: 270 MB never crosses the socket (and compresses on disk).
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at) select $2, 'cart_abandoned', jsonb_build_object('total', 5000, 'blob', repeat('x', 900000)), to_timestamp($1 / 1000.0) from generate_series(1, 300)`,
    [clock.t, U(500)],
  );
  await follows(db, 11, 10, clock.t);
  const result = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  assert.equal(result.counts.eventsSetAside, 300);
  assert.deepEqual(
    [...result.counts.setAsideReasons],
    [['properties are more than 131072 bytes of JSON: at most 65536 bytes an event', 300]],
  );
  assert.deepEqual(await sentTo(db, 'friend-welcome/welcome', good.slice(0, 20)), good.slice(0, 20));
});

test('a page is bounded by bytes: 150 events of 60 KB come in pages under 8 MiB, all in one tick', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  // 15 strings of 4,000 characters: 60 KB of JSON, inside every bound.
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at)
     select 'U' || lpad(to_hex(g), 32, '0'), 'cart_abandoned',
            (select jsonb_object_agg('s' || k, repeat('y', 4000)) from generate_series(1, 15) k) || jsonb_build_object('total', 5000),
            to_timestamp($1 / 1000.0)
     from generate_series(1, 150) g`,
    [clock.t],
  );
  const page = await store.ingestClaim({ now: clock.t, owner: 'probe', limit: 500, leaseSeconds: 1 });
  assert.ok(page.events.length > 100 && page.events.length < 150, `the first page holds ${page.events.length} events`);
  assert.ok(JSON.stringify(page.events).length <= 8 * 1024 * 1024 + 500 * 200);
  assert.equal(page.more, true);
  clock.advance(2000); // the probe's lease runs out
  const result = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  assert.equal(result.counts.eventsTaken, 150);
  assert.equal(result.counts.total('enrolled'), 150);
});

const keys = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

test('bounds at ingest count as the edge functions do: compact JSON bytes, 8 levels, 100 keys, 4,000 characters', async () => {
  const { store, db } = await server();
  const t = START;
  const cases: [string, unknown, RegExp | null][] = [
    // 30,000 items: 60 KB as compact JSON, 90 KB as PostgreSQL's text: taken in.
    ['compact', { a: Array.from({ length: 30_000 }, () => 1) }, null],
    [
      'too big',
      { a: Array.from({ length: 33_000 }, () => 1) },
      /^properties are 66007 bytes of JSON: at most 65536 bytes an event$/,
    ],
    ['8 levels', { a: [[[[[[[1]]]]]]] }, null],
    ['9 levels', { a: [[[[[[[[1]]]]]]]] }, /^properties nest deeper than 8 levels/],
    ['100 keys', { ...keys(98), n: { x: 1 } }, null],
    ['101 keys', { ...keys(99), n: { x: 1 } }, /^properties have more than 100 keys/],
    ['4000 chars', { s: 'é'.repeat(4000) }, null],
    ['4001 chars', { s: 'é'.repeat(4001) }, /^a string in properties is longer than 4000 characters$/],
    ['long key', { ['k'.repeat(4001)]: 1 }, /^a string in properties is longer than 4000 characters$/],
    ['not an object', [1, 2], /^properties must be a JSON object, got a list$/],
  ];
  const ids = new Map<string, string>();
  for (const [name, properties] of cases) ids.set(name, await insert(db, U(1), 'cart_abandoned', properties, t));
  const page = await store.ingestClaim({ now: t, owner: 't', limit: 500, leaseSeconds: 60 });
  for (const [name, , reason] of cases) {
    const row = await eventRow(db, ids.get(name)!);
    if (reason === null)
      assert.ok(
        page.events.some((e) => e.id === ids.get(name)),
        `${name}: taken in (${row.status_reason})`,
      );
    else {
      assert.equal(row.status, 'set_aside', name);
      assert.match(row.status_reason!, reason, name);
    }
  }
});

test('what the engine reads of each type is checked: wrong types are set aside with the key and the type, never the value', async () => {
  const { store, db } = await server();
  const t = START;
  const cases: [string, Record<string, unknown>, RegExp | null][] = [
    ['follow', { route: 'qr-seminar', unblocked: true }, null],
    ['follow', { route: { secret: 1 } }, /^follow: route must be a string, got an object$/],
    ['follow', { unblocked: 'secret' }, /^follow: unblocked must be true or false, got a string$/],
    ['account_linked', {}, /^account_linked: memberId is missing$/],
    [
      'account_linked',
      { memberId: ['secret'] },
      /^account_linked: memberId must be a string or a whole number, got a list$/,
    ],
    [
      'account_linked',
      { memberId: 1.5 },
      /^account_linked: memberId must be a string or a whole number, got a number$/,
    ],
    ['account_linked', { memberId: 12345 }, null],
    ['profile_updated', { attributes: 'secret' }, /^profile_updated: attributes must be a JSON object, got a string$/],
    [
      'profile_updated',
      { attributes: { tags: ['a', ['secret']] } },
      /^profile_updated: attributes\.tags must be .* got a list holding a list or an object$/,
    ],
    [
      'profile_updated',
      { attributes: { 'secret@example.com': {} } },
      /^profile_updated: attributes\.\[a key not shown\] must be/,
    ],
    ['profile_updated', { timezone: 9 }, /^profile_updated: timezone must be a string/],
    ['profile_updated', { gender: 'female', tags: ['vip'], linked: false, score: 3, note: null }, null],
    ['survey_answered', { question: '' }, /^survey_answered: question is empty$/],
    [
      'survey_answered',
      { question: 'q1', answer: { secret: 1 } },
      /^survey_answered: answer must be .* got an object$/,
    ],
    ['survey_answered', { question: 'q1', answer: ['a', 'b'] }, null],
    ['survey_answered', { question: 'q1', survey: ['x'] }, /^survey_answered: survey must be a string, got a list$/],
    ['list_added', { list: null }, /^list_added: list is missing$/],
    ['list_added', { list: { secret: 1 } }, /^list_added: list must be a string, got an object$/],
    ['list_added', { list: 'vip-2026' }, null],
  ];
  const ids: string[] = [];
  for (const [i, [type, properties]] of cases.entries()) ids.push(await insert(db, U(i + 1), type, properties, t));
  const page = await store.ingestClaim({ now: t, owner: 't', limit: 500, leaseSeconds: 60 });
  for (const [i, [type, properties, reason]] of cases.entries()) {
    const row = await eventRow(db, ids[i]!);
    const what = `${type} ${JSON.stringify(properties)}`;
    if (reason === null)
      assert.ok(
        page.events.some((e) => e.id === ids[i]),
        `${what}: taken in (${row.status_reason})`,
      );
    else {
      assert.equal(row.status, 'set_aside', what);
      assert.match(row.status_reason!, reason, what);
      assert.ok(!/secret/.test(row.status_reason!), what);
    }
  }
});

test('whatever still fails while an event is applied (here a trigger refusing one user) sets that event aside alone, undoing only it', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  await db.exec(`create function refuse_one() returns trigger language plpgsql as $$
    begin if new.line_user_id = '${U(1)}' and new.attributes ? 'region' then raise exception 'refused: %', new.attributes; end if; return new; end $$;
    create trigger refuse_one before update on line_users for each row execute function refuse_one();`);
  const refused = await insert(db, U(1), 'profile_updated', { attributes: { region: 'secret-region' } }, clock.t);
  await insert(db, U(1), 'follow', {}, clock.t);
  await insert(db, U(2), 'profile_updated', { attributes: { region: 'tokyo' } }, clock.t);
  await insert(db, U(2), 'follow', {}, clock.t);
  const result = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  const row = await eventRow(db, refused);
  assert.equal(row.status, 'set_aside');
  assert.equal(
    row.status_reason,
    'profile_updated: could not be applied to the user record (SQLSTATE P0001); nothing of it was applied',
  );
  assert.equal(result.counts.eventsTaken, 3);
  assert.deepEqual(await sentTo(db, 'friend-welcome/welcome', [U(1), U(2)]), [U(1), U(2)]);
  const users = await db.query<{ line_user_id: string; region: string | null }>(
    `select line_user_id, attributes->>'region' as region from line_users order by 1`,
  );
  assert.deepEqual(users, [
    { line_user_id: U(1), region: null },
    { line_user_id: U(2), region: 'tokyo' },
  ]);
});

test('a linked attribute stored as text before this release no longer fails every tick (it was a cast error in lsd_user_facts)', async () => {
  const { store, db } = await server();
  const clock = await switchedOn(store);
  await db.query(
    `insert into line_users (line_user_id, attributes) values ($1, '{"linked": "secret-yes", "region": "tokyo"}'), ($2, '{"linked": "true", "region": "tokyo"}')`,
    [U(1), U(2)],
  );
  await insert(db, U(1), 'purchased', {}, clock.t);
  await insert(db, U(2), 'purchased', {}, clock.t);
  const result = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  assert.equal(result.counts.eventsTaken, 2);
  const page = await store.claimDue({
    now: clock.t + 86_400_000,
    owner: 'probe',
    limit: 10,
    leaseSeconds: 1,
    shardIndex: 0,
    shardCount: 1,
    eventTypes: [],
  });
  assert.equal(page.users.get(U(1))?.attributes.linked, false);
  assert.equal(page.users.get(U(2))?.attributes.linked, true);
});

test("a database error that quotes a value reaches the log without it; the engine's own errors keep their words", async () => {
  const client = new pg.Client({ connectionString: (await server()).url });
  await client.connect();
  const error = await client.query(`select 'secret-yes'::boolean`).catch((e: unknown) => e);
  await client.end();
  const message = publicErrorMessage(error);
  assert.match(
    message,
    /^invalid input syntax for type boolean: "…" \(SQLSTATE 22P02; values in the database's message are not shown\)$/,
  );
  assert.equal(
    publicErrorMessage(new Error('only-scenario: there is no scenario "x" in scenarios')),
    'only-scenario: there is no scenario "x" in scenarios',
  );
  assert.equal(
    failureReason(new TypeError(`Cannot read properties of undefined (reading 'secret')`)),
    `TypeError: Cannot read properties of undefined (reading '…')`,
  );
});

test('the action: a tick that fails in the database prints ::error:: without the value the database quoted', async () => {
  const { db, url } = await server();
  // What a cast error in ingest looked like before this release, with a person's attribute in it.
  await db.exec(`create or replace function lsd_ingest_claim(p jsonb) returns jsonb language plpgsql as $$
    begin raise exception using errcode = '22P02', message = 'invalid input syntax for type boolean: "secret-attribute"'; end $$`);
  const { run } = await import('../../src/action/main.js');
  const env = {
    INPUT_MODE: 'run',
    INPUT_SCENARIOS: 'scenarios',
    'INPUT_DATABASE-URL': url,
    'INPUT_LINE-CHANNEL-ACCESS-TOKEN': 'test-token',
    'INPUT_LINE-API-BASE-URL': 'http://127.0.0.1:9',
    GITHUB_STEP_SUMMARY: '',
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => (written.push(String(chunk)), true);
  try {
    await run();
  } finally {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    process.exitCode = 0;
  }
  const log = written.join('');
  assert.match(log, /::error::invalid input syntax for type boolean: "…" \(SQLSTATE 22P02/);
  assert.ok(!log.includes('secret-attribute'));
});

test('PGlite runs the same checks: a bad event among good ones is set aside, the good ones are taken in', async () => {
  const { store, db } = await pgliteStore();
  const clock = await switchedOn(store);
  await insert(db, U(1), 'survey_answered', { question: ['q1'] }, clock.t);
  await insert(db, U(2), 'follow', {}, clock.t);
  await insert(db, U(3), 'cart_abandoned', `{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`, clock.t);
  // A survey of the shop's own, with no question: it routes, and records no answer.
  await insert(db, U(4), 'survey_answered', { survey: 'interests', question: null, category: 'skincare' }, clock.t);
  const result = await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now });
  assert.equal(result.counts.eventsTaken, 2);
  assert.deepEqual([...result.counts.setAsideReasons.keys()].sort(), [
    'properties nest deeper than 8 levels (properties is level 1)',
    'survey_answered: question must be a string, got a list',
  ]);
  const [u4] = await db.query<{ answers: Record<string, unknown> }>(
    `select answers from line_users where line_user_id = $1`,
    [U(4)],
  );
  assert.deepEqual(u4?.answers, {}, 'no answer recorded without a question');
  assert.equal(
    (await db.query(`select 1 from enrollments where line_user_id = $1 and scenario_id = 'survey-answer'`, [U(4)]))
      .length,
    1,
    'it enrolled',
  );
  assert.deepEqual(await sentTo(db, 'friend-welcome/welcome', [U(2)]), [U(2)]);
  await db.close();
});

test("routing sees each event's user as of that event: whether a page splits between a user's events changes nothing", async () => {
  const outcome = async (pageSize: number) => {
    const { store, db } = await server();
    const clock = await switchedOn(store);
    clock.advance(10 * MINUTE);
    await insert(db, U(1), 'list_added', { list: 'vip-2026' }, clock.t - 3 * MINUTE);
    await insert(db, U(1), 'unfollow', {}, clock.t - 2 * MINUTE);
    await insert(db, U(2), 'unfollow', {}, clock.t - 3 * MINUTE);
    await insert(db, U(2), 'follow', {}, clock.t - 2 * MINUTE);
    await insert(db, U(2), 'profile_updated', { attributes: { linked: true, region: 'tokyo' } }, clock.t - MINUTE);
    await runTick({ store, sender: new NoLineSender(), scenarios: compiled, now: clock.now, pageSize });
    const rows = await db.query<{ line: string }>(
      `select concat_ws(' ', line_user_id, scenario_id, status, exit_reason) as line from enrollments order by 1`,
    );
    return rows.map((r) => r.line);
  };
  const onePage = await outcome(500);
  assert.deepEqual(onePage, await outcome(1));
  // The list enrolled the user, who was following then; the unfollow a minute later ended it.
  assert.deepEqual(onePage, [
    `${U(1)} vip-list exited unfollowed`,
    `${U(2)} friend-welcome active`,
    `${U(2)} linked-members active`,
  ]);
});

test('planAlone: a planner that throws gives a failed step and an exit, never an exception', () => {
  const enrollment = {
    id: 'e1',
    scenarioId: 's',
    scenarioHash: 'h',
    enteredAt: START,
    trigger: {},
    stepId: 'first',
    previousAt: START,
    converted: false,
  };
  const throwing = { compiled: {} } as never; // no steps: planEnrollment throws a TypeError
  const plan = planAlone({
    scenario: throwing,
    enrollment,
    user: { userId: U(1), following: true, attributes: {}, answers: {} },
    events: [],
    now: START,
  });
  assert.equal(plan.decisions.length, 1);
  assert.equal(plan.decisions[0]!.kind, 'fail');
  assert.equal(plan.outcome.kind, 'exit');
  assert.match(
    (plan.outcome as { reason: string }).reason,
    /^failed: step "first": the planner failed on this enrollment \(TypeError: /,
  );
});
