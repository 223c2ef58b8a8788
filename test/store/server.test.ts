// The store on the real PostgreSQL server: what needs two connections at once.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { serverStore } from '../support/db.js';
import type { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function fresh() {
  const s = await serverStore({ max: 8 });
  cleanups.push(s.drop);
  return s;
}

async function count(db: SqlRpc, sql: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(sql);
  return Number(row?.n);
}

const NOW = Date.parse('2026-11-25T03:00:00Z');
const U = (n: number) => `U${String(n).padStart(32, '0')}`;

async function seedEnrollments(db: SqlRpc, count: number, dueAt = NOW - 1000): Promise<void> {
  await db.query(
    `insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key)
     select 's', 'U' || lpad(g::text, 32, '0'), 'a', to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0), 'h', lsd_shard_key('U' || lpad(g::text, 32, '0'))
     from generate_series(1, $2) g`,
    [dueAt, count],
  );
}

test('migrations apply on the server, and RLS lets the anon role read and write nothing', async () => {
  const { db } = await fresh();
  const tables = await db.query<{ tablename: string; rowsecurity: boolean }>(
    `select tablename, rowsecurity from pg_tables where schemaname = 'public' order by tablename`,
  );
  assert.deepEqual(
    tables.filter((t) => !t.rowsecurity),
    [],
    'every table has RLS on',
  );
  assert.ok(tables.length >= 8);
  // Supabase's anon role, with the broad grants Supabase gives it by default.
  await db.exec(`do $$ begin if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if; end $$;
    grant usage on schema public to anon; grant all on all tables in schema public to anon; grant all on all sequences in schema public to anon;`);
  await db.query(`insert into line_users (line_user_id) values ($1)`, [U(1)]);
  await db.query(`insert into events (line_user_id, type) values ($1, 'follow')`, [U(1)]);
  const asAnon = async (sql: string) => {
    await db.exec('begin');
    try {
      await db.exec('set local role anon');
      return await db.query(sql);
    } finally {
      await db.exec('rollback');
    }
  };
  assert.deepEqual(await asAnon('select * from line_users'), []);
  assert.deepEqual(await asAnon('select * from events'), []);
  await assert.rejects(asAnon(`insert into events (line_user_id, type) values ('Ux', 'follow')`), /row-level security/);
  await assert.rejects(asAnon(`select lsd_claim_due('{}'::jsonb)`), /permission denied/);
  await assert.rejects(asAnon(`select lsd_ingest_claim('{}'::jsonb)`), /permission denied/);
});

test('two ticks claiming at once never get the same enrollment (many rounds)', async () => {
  const { store, open, db } = await fresh();
  const other = await open();
  await seedEnrollments(db, 3000);
  const seen = new Map<string, string>();
  let rounds = 0;
  for (;;) {
    rounds++;
    const claim = (s: Store, owner: string) =>
      s.claimDue({ now: NOW, owner, limit: 97, leaseSeconds: 600, shardIndex: 0, shardCount: 1, eventTypes: [] });
    const [a, b] = await Promise.all([claim(store, 'a'), claim(other, 'b')]);
    const c = await claim(other, 'c');
    for (const [owner, page] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      for (const e of page.enrollments) {
        assert.equal(seen.get(e.id), undefined, `enrollment claimed by ${seen.get(e.id)} and ${owner}`);
        seen.set(e.id, owner);
      }
    }
    if (!a.enrollments.length && !b.enrollments.length && !c.enrollments.length) break;
  }
  assert.equal(seen.size, 3000, 'every due enrollment was claimed once');
  assert.ok(rounds > 5);
  const owners = new Set(seen.values());
  assert.ok(owners.has('a') && owners.has('b'), 'both ticks got work');
});

test('many concurrent claimers race for batches: each batch goes to one of them', async () => {
  const { store, open, db } = await fresh();
  const stores = [store, await open(), await open(), await open()];
  await seedEnrollments(db, 1);
  const [enrollment] = await db.query<{ id: string }>('select id from enrollments');
  for (let i = 0; i < 400; i++) {
    await db.query(
      `insert into outbox_batches (id, scenario_id, step_id, kind, messages, recipients) values ($1, 's', 'a', 'push', $3, array[$2])`,
      [randomUUID(), U(i), JSON.stringify([{ type: 'text', text: `message ${i}` }])],
    );
  }
  void enrollment;
  const got = new Map<string, number>();
  for (let round = 0; round < 50; round++) {
    const pages = await Promise.all(
      stores.map((s, i) => s.claimBatches({ now: NOW, owner: `w${i}`, limit: 7, leaseSeconds: 600 })),
    );
    let any = false;
    pages.forEach((p, i) => {
      for (const b of p.batches) {
        any = true;
        assert.equal(got.get(b.id), undefined, `batch claimed twice (by w${got.get(b.id)} and w${i})`);
        got.set(b.id, i);
      }
    });
    if (!any) break;
  }
  assert.equal(got.size, 400);
});

test("a lease that runs out is taken over, and the first owner's late commit is dropped", async () => {
  const { store, open, db } = await fresh();
  const other = await open();
  await seedEnrollments(db, 5);
  const first = await store.claimDue({
    now: NOW,
    owner: 'slow',
    limit: 10,
    leaseSeconds: 60,
    shardIndex: 0,
    shardCount: 1,
    eventTypes: [],
  });
  assert.equal(first.enrollments.length, 5);
  const blocked = await other.claimDue({
    now: NOW + 30_000,
    owner: 'fast',
    limit: 10,
    leaseSeconds: 60,
    shardIndex: 0,
    shardCount: 1,
    eventTypes: [],
  });
  assert.equal(blocked.enrollments.length, 0, 'leased rows are not claimed while the lease holds');
  const taken = await other.claimDue({
    now: NOW + 61_000,
    owner: 'fast',
    limit: 10,
    leaseSeconds: 60,
    shardIndex: 0,
    shardCount: 1,
    eventTypes: [],
  });
  assert.equal(taken.enrollments.length, 5, 'an expired lease is taken over');
  const plan = (id: string) => ({
    id,
    status: 'active' as const,
    stepId: 'b',
    previousAt: NOW,
    waitStartedAt: null,
    waitingFor: null,
    dueAt: NOW + 86_400_000,
    scenarioHash: 'h',
    convertedAt: null,
    exitReason: null,
  });
  const members = first.enrollments.map((e) => ({ enrollmentId: e.id, userId: e.userId, dueAt: NOW }));
  const late = await store.commitPlans({
    now: NOW + 62_000,
    owner: 'slow',
    plans: first.enrollments.map((e) => plan(e.id)),
    skipped: [],
    batches: [
      {
        id: randomUUID(),
        scenarioId: 's',
        stepId: 'a',
        kind: 'multicast',
        messages: [{ type: 'text', text: 'x' }],
        aggregationUnit: 's__a',
        members,
      },
    ],
  });
  assert.deepEqual(late, { committed: 0, lost: 5, batches: 0 });
  const ok = await other.commitPlans({
    now: NOW + 62_000,
    owner: 'fast',
    plans: taken.enrollments.map((e) => plan(e.id)),
    skipped: [],
    batches: [
      {
        id: randomUUID(),
        scenarioId: 's',
        stepId: 'a',
        kind: 'multicast',
        messages: [{ type: 'text', text: 'x' }],
        aggregationUnit: 's__a',
        members,
      },
    ],
  });
  assert.deepEqual(ok, { committed: 5, lost: 0, batches: 1 });
  const n = await count(db, `select count(*) as n from deliveries`);
  assert.equal(n, 5, 'each user has the step once');
  const [batch] = await db.query<{ recipients: string[] }>(`select recipients from outbox_batches`);
  assert.equal(batch?.recipients.length, 5);
});

test('the same step at the same moment cannot be committed twice for an enrollment', async () => {
  const { store, db } = await fresh();
  await seedEnrollments(db, 2);
  const page = await store.claimDue({
    now: NOW,
    owner: 'o',
    limit: 10,
    leaseSeconds: 60,
    shardIndex: 0,
    shardCount: 1,
    eventTypes: [],
  });
  const members = page.enrollments.map((e) => ({ enrollmentId: e.id, userId: e.userId, dueAt: NOW }));
  const keep = (id: string) => ({
    id,
    status: 'active' as const,
    stepId: 'a',
    previousAt: NOW,
    waitStartedAt: null,
    waitingFor: null,
    dueAt: NOW,
    scenarioHash: 'h',
    convertedAt: null,
    exitReason: null,
  });
  const batch = () => ({
    id: randomUUID(),
    scenarioId: 's',
    stepId: 'a',
    kind: 'multicast' as const,
    messages: [{ type: 'text' as const, text: 'x' }],
    aggregationUnit: 's__a',
    members,
  });
  await store.commitPlans({
    now: NOW,
    owner: 'o',
    plans: page.enrollments.map((e) => keep(e.id)),
    skipped: [],
    batches: [batch()],
  });
  const again = await store.claimDue({
    now: NOW + 1,
    owner: 'o',
    limit: 10,
    leaseSeconds: 60,
    shardIndex: 0,
    shardCount: 1,
    eventTypes: [],
  });
  const second = await store.commitPlans({
    now: NOW + 1,
    owner: 'o',
    plans: again.enrollments.map((e) => keep(e.id)),
    skipped: [],
    batches: [batch()],
  });
  assert.equal(second.batches, 0, 'no second batch: the deliveries exist already');
  const n = await count(db, `select count(*) as n from outbox_batches`);
  assert.equal(n, 1);
});

test('ingest: a late-committed event with a lower id is still taken in; a repeated idempotency key is one event', async () => {
  const { store, open, db } = await fresh();
  const other = await open();
  // Transaction A takes an id, commits late; B commits first with a higher id.
  await other.rpc.call('lsd_run_start', { now: NOW }); // warm the second connection
  const a = other.rpc as SqlRpc;
  await a.exec('begin');
  await a.query(`insert into events (line_user_id, type, occurred_at) values ($1, 'follow', now())`, [U(1)]);
  await db.query(`insert into events (line_user_id, type, occurred_at) values ($1, 'follow', now())`, [U(2)]);
  const page1 = await store.ingestClaim({ now: NOW, owner: 't', limit: 100, leaseSeconds: 60 });
  assert.deepEqual(
    page1.events.map((e) => e.userId),
    [U(2)],
  );
  await store.ingestCommit({
    now: NOW,
    owner: 't',
    done: page1.events.map((e) => e.id),
    enroll: [],
    exit: [],
    wake: [],
  });
  await a.exec('commit');
  const page2 = await store.ingestClaim({ now: NOW, owner: 't', limit: 100, leaseSeconds: 60 });
  assert.deepEqual(
    page2.events.map((e) => e.userId),
    [U(1)],
    'the lower id that committed late is not skipped',
  );
  assert.ok(Number(page2.events[0]!.id) < Number(page1.events[0]!.id));

  await db.query(
    `insert into events (line_user_id, type, idempotency_key) values ($1, 'purchased', 'order-1') on conflict (idempotency_key) do nothing`,
    [U(1)],
  );
  await db.query(
    `insert into events (line_user_id, type, idempotency_key) values ($1, 'purchased', 'order-1') on conflict (idempotency_key) do nothing`,
    [U(1)],
  );
  const n = await count(db, `select count(*) as n from events where idempotency_key = 'order-1'`);
  assert.equal(n, 1);
});

test('ingest: a member-id event waits for the link, then is taken in; malformed rows are set aside with the reason', async () => {
  const { store, db } = await fresh();
  await db.query(`insert into events (member_id, type, occurred_at) values ('M-1', 'purchased', now())`);
  await db.query(`insert into events (line_user_id, type) values ($1, 'Bad Type')`, [U(3)]);
  await db.query(`insert into events (type) values ('purchased')`);
  // A typo'd id would make LINE refuse a whole multicast of 500: never enrolled.
  await db.query(`insert into events (line_user_id, type) values ('U123', 'purchased')`);
  const first = await store.ingestClaim({ now: NOW, owner: 't', limit: 100, leaseSeconds: 60 });
  assert.equal(first.events.length, 0);
  assert.equal(first.waitingLink, 1);
  assert.equal(first.setAside, 3);
  const reasons = await db.query<{ status: string; status_reason: string }>(
    `select status, status_reason from events order by id`,
  );
  assert.deepEqual(
    reasons.map((r) => r.status),
    ['waiting_link', 'set_aside', 'set_aside', 'set_aside'],
  );
  assert.match(reasons[1]!.status_reason, /lower snake case/);
  assert.match(reasons[2]!.status_reason, /neither line_user_id nor member_id/);
  assert.match(reasons[3]!.status_reason, /line_user_id must be a LINE user id: "U" and 32 lowercase hex digits/);
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at) values ($1, 'account_linked', '{"memberId": "M-1"}', now())`,
    [U(4)],
  );
  const second = await store.ingestClaim({ now: NOW + 1000, owner: 't', limit: 100, leaseSeconds: 60 });
  assert.deepEqual(
    second.events.map((e) => e.type),
    ['account_linked'],
  );
  await store.ingestCommit({
    now: NOW + 1000,
    owner: 't',
    done: second.events.map((e) => e.id),
    enroll: [],
    exit: [],
    wake: [],
  });
  const third = await store.ingestClaim({ now: NOW + 2000, owner: 't', limit: 100, leaseSeconds: 60 });
  assert.deepEqual(
    third.events.map((e) => [e.type, e.userId]),
    [['purchased', U(4)]],
    'the purchase is taken in once the member is linked',
  );
  assert.equal(third.users.get(U(4))?.attributes.linked, true);
});

test('two whole ticks running at once send each user each step exactly once', async () => {
  const { loadScenarioDir } = await import('../../src/scenario/loader.js');
  const { runTick } = await import('../../src/engine/tick.js');
  const { NoLineSender } = await import('../../src/line/sender.js');
  const { scenarios } = await loadScenarioDir('scenarios');
  const compiled = scenarios.map((s) => s.compiled).filter((c) => c.id === 'friend-welcome');
  const { store, open, db } = await fresh();
  const other = await open();
  let t = Date.parse('2026-11-25T00:00:00Z'); // 09:00 in Tokyo
  const now = () => t;
  const sender = new NoLineSender();
  await runTick({ store, sender, scenarios: compiled, now });
  t += 60_000;
  await db.query(
    `insert into events (line_user_id, type, occurred_at) select 'U' || lpad(g::text, 32, '0'), 'follow', to_timestamp($1 / 1000.0) from generate_series(1, 1200) g`,
    [t],
  );
  for (let i = 0; i < 40; i++) {
    t += 6 * 3600_000;
    await Promise.all([
      runTick({ store, sender, scenarios: compiled, now, pageSize: 150 }),
      runTick({ store: other, sender, scenarios: compiled, now, pageSize: 150 }),
    ]);
  }
  const perUserStep = new Map<string, number>();
  for (const b of sender.sent)
    for (const r of b.recipients) perUserStep.set(`${r} ${b.stepId}`, (perUserStep.get(`${r} ${b.stepId}`) ?? 0) + 1);
  const twice = [...perUserStep].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'nobody got a step twice');
  assert.equal(perUserStep.size, 1200 * 4, 'every user got welcome, day 1, day 5 and one coupon');
  const n = await count(db, `select count(*) as n from deliveries where status = 'sent'`);
  assert.equal(n, 1200 * 4);
});
