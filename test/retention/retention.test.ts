// Retention on the real server: what is older than the period goes, a page at a time,
// and nothing still needed goes with it (events an open enrollment reads, unsettled
// batches, the newest ended enrollment a re-entry rule reads, leased rows, the report's
// rollups, the newest run of a shard).
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { serverStore } from '../support/db.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import pg from 'pg';
import { RETENTION_KINDS, retentionPage, storageSample } from '../../src/store/retention.js';
import {
  keepWithinRetention,
  outlook,
  parseDatabasePlan,
  parseRetentionDays,
  retentionPhase,
} from '../../src/engine/retention.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { tickSummary } from '../../src/report/summary.js';
import { storageSentence, storageWarning } from '../../src/report/storage.js';

const DAY = 86_400_000;
const NOW = Date.parse('2027-06-01T00:00:00Z');
const OLD = NOW - 100 * DAY;
const RECENT = NOW - 10 * DAY;
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const iso = (ms: number) => new Date(ms).toISOString();
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});

async function database(): Promise<SqlRpc> {
  const s = await serverStore();
  drops.push(s.drop);
  return s.db;
}

async function event(db: SqlRpc, user: string, at: number, status: string, leasedUntil?: number): Promise<number> {
  const [r] = await db.query<{ id: number }>(
    `insert into events (line_user_id, type, occurred_at, inserted_at, status, lease_until)
     values ($1, 'purchased', $2, $2, $3, $4) returning id`,
    [user, iso(at), status, leasedUntil ? iso(leasedUntil) : null],
  );
  return Number(r!.id);
}

async function enrollment(
  db: SqlRpc,
  o: { user: string; scenario?: string; status: string; entered: number; ended?: number; key?: string },
): Promise<string> {
  const [r] = await db.query<{ id: string }>(
    `insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, ended_at, scenario_hash, shard_key, enrollment_key)
     values ($1, $2, $3, 's1', $4, $4, $5, 'h', 0, $6) returning id`,
    [o.scenario ?? 'welcome', o.user, o.status, iso(o.entered), o.ended ? iso(o.ended) : null, o.key ?? null],
  );
  return r!.id;
}

async function delivery(db: SqlRpc, enrollmentId: string, user: string, at: number, status = 'sent'): Promise<void> {
  await db.query(
    `insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, created_at)
     values ($1, 'welcome', 's1', $2, 'send', $3, $4, $3)`,
    [enrollmentId, user, iso(at), status],
  );
}

async function batch(db: SqlRpc, status: string, at: number, o: { leasedUntil?: number; uncertain?: boolean } = {}) {
  const [r] = await db.query<{ id: string }>(
    `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, status, sent_at, created_at, updated_at, lease_until, uncertain_since)
     values ('welcome', 's1', 'push', '[]', array[$1], $2, case when $2 = 'sent' then $3::timestamptz end, $3, $3, $4, $5) returning id`,
    [U(1), status, iso(at), o.leasedUntil ? iso(o.leasedUntil) : null, o.uncertain ? iso(at) : null],
  );
  return r!.id;
}

const ids = async (db: SqlRpc, table: string) =>
  new Set((await db.query<{ id: string }>(`select id::text as id from ${table}`)).map((r) => r.id));

test('events: the old settled ones go; an open enrollment’s, new, waiting, leased and recent ones stay', async () => {
  const db = await database();
  const gone = [await event(db, U(1), OLD, 'done'), await event(db, U(1), OLD, 'set_aside')];
  // U(2) entered after its old event: nothing it reads is that old.
  await enrollment(db, { user: U(2), status: 'active', entered: OLD + DAY });
  gone.push(await event(db, U(2), OLD, 'done'));
  // U(3) is inside since before its old event: its wait or goal may read it, and its trigger.
  await enrollment(db, { user: U(3), status: 'active', entered: OLD - DAY });
  const kept = [
    await event(db, U(3), OLD, 'done'),
    await event(db, U(3), OLD - DAY, 'done'),
    await event(db, U(4), OLD, 'new'),
    await event(db, U(4), OLD, 'waiting_link'),
    await event(db, U(5), OLD, 'done', NOW + DAY),
    await event(db, U(6), RECENT, 'done'),
  ];
  const r = await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'events' });
  assert.equal(r.deleted, gone.length);
  const left = await ids(db, 'events');
  for (const id of gone) assert.ok(!left.has(String(id)), `event ${id} should be removed`);
  for (const id of kept) assert.ok(left.has(String(id)), `event ${id} should be kept`);
});

test('batches: sent, failed and skipped ones older than the period go; pending, uncertain, in review, leased and recent stay', async () => {
  const db = await database();
  const gone = [await batch(db, 'sent', OLD), await batch(db, 'failed', OLD), await batch(db, 'skipped', OLD)];
  const kept = [
    await batch(db, 'pending', OLD, { uncertain: true }),
    await batch(db, 'needs_review', OLD),
    await batch(db, 'sent', OLD, { leasedUntil: NOW + DAY }),
    await batch(db, 'sent', RECENT),
  ];
  // What the user was sent stays with the enrollment: the delivery outlives its batch.
  const enrollmentId = await enrollment(db, { user: U(1), status: 'active', entered: OLD - DAY });
  await delivery(db, enrollmentId, U(1), OLD);
  await db.query(`update deliveries set batch_id = $1`, [gone[0]]);
  const before = await db.query(`select scenario_id, step_id, bucket, sent, failed from report_sent order by bucket`);
  const r = await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'batches' });
  assert.equal(r.deleted, 3);
  const left = await ids(db, 'outbox_batches');
  for (const id of gone) assert.ok(!left.has(id), `batch ${id} should be removed`);
  for (const id of kept) assert.ok(left.has(id), `batch ${id} should be kept`);
  const [d] = await db.query<{ batch_id: string | null; status: string }>(`select batch_id, status from deliveries`);
  assert.deepEqual(d, { batch_id: null, status: 'sent' });
  // The report's rollups of what was sent stay as they were.
  assert.deepEqual(
    await db.query(`select scenario_id, step_id, bucket, sent, failed from report_sent order by bucket`),
    before,
  );
  assert.ok(before.length > 0);
});

test('enrollments: old ended ones go with their deliveries, except the newest of a user and scenario (re-entry once) and any still in review', async () => {
  const db = await database();
  const superseded = await enrollment(db, { user: U(1), status: 'finished', entered: OLD - 9 * DAY, ended: OLD });
  await delivery(db, superseded, U(1), OLD - 9 * DAY);
  await delivery(db, superseded, U(1), OLD - 5 * DAY);
  const newest = await enrollment(db, { user: U(1), status: 'exited', entered: OLD - DAY, ended: OLD });
  await delivery(db, newest, U(1), OLD - DAY);
  const keyed = await enrollment(db, {
    user: U(2),
    status: 'finished',
    entered: OLD - DAY,
    ended: OLD,
    key: 'order-1',
  });
  await delivery(db, keyed, U(2), OLD - DAY);
  const inReview = await enrollment(db, { user: U(3), status: 'finished', entered: OLD - 2 * DAY, ended: OLD });
  await enrollment(db, { user: U(3), status: 'finished', entered: OLD - DAY, ended: OLD });
  await delivery(db, inReview, U(3), OLD - 2 * DAY, 'needs_review');
  const active = await enrollment(db, { user: U(4), status: 'active', entered: OLD - 50 * DAY });
  const recent = await enrollment(db, { user: U(5), status: 'finished', entered: OLD, ended: RECENT });
  await enrollment(db, { user: U(5), status: 'active', entered: RECENT });
  const r = await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'enrollments' });
  assert.deepEqual([r.deleted, r.deliveries], [2, 3]);
  const left = await ids(db, 'enrollments');
  for (const id of [superseded, keyed]) assert.ok(!left.has(id), `enrollment ${id} should be removed`);
  for (const id of [newest, inReview, active, recent]) assert.ok(left.has(id), `enrollment ${id} should be kept`);
  const deliveries = await db.query<{ enrollment_id: string }>(`select enrollment_id::text from deliveries`);
  assert.deepEqual(deliveries.map((d) => d.enrollment_id).sort(), [newest, inReview].sort());
});

test('runs: the old ones go, except the newest of each shard', async () => {
  const db = await database();
  for (const [shard, at] of [
    [0, OLD - DAY],
    [0, OLD],
    [0, RECENT],
    [1, OLD],
  ] as const)
    await db.query(`insert into runs (started_at, shard_index, status) values ($1, $2, 'ok')`, [iso(at), shard]);
  const r = await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'runs' });
  assert.equal(r.deleted, 2);
  const left = await db.query<{ shard_index: number; started_at: Date }>(
    `select shard_index, started_at from runs order by shard_index, started_at`,
  );
  assert.deepEqual(
    left.map((x) => [x.shard_index, new Date(x.started_at).getTime()]),
    [
      [0, RECENT],
      [1, OLD],
    ],
  );
});

test('pages are bounded and move past what they keep: kept rows at the front never stall the rest', async () => {
  const db = await database();
  // Twelve old events an open enrollment reads, then ten that may go, all in one statement each.
  await enrollment(db, { user: U(3), status: 'active', entered: OLD - 30 * DAY });
  for (let i = 0; i < 12; i++) await event(db, U(3), OLD - 20 * DAY + i, 'done');
  for (let i = 0; i < 10; i++) await event(db, U(7), OLD - 10 * DAY + i, 'done');
  const seen: number[] = [];
  let deleted = 0;
  for (let call = 0; call < 10 && deleted < 10; call++) {
    const r = await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'events', limit: 4 });
    assert.ok(r.examined <= 4 && r.deleted <= 4);
    seen.push(r.deleted);
    deleted += r.deleted;
  }
  assert.equal(deleted, 10, `deleted per call: ${seen.join(', ')}`);
  assert.deepEqual(seen.slice(0, 3), [0, 0, 0], 'the first three pages held only kept rows');
  const [left] = await db.query<{ n: number }>(`select count(*)::int as n from events`);
  assert.equal(left!.n, 12);
});

test('a retention period under 31 days is refused with the fix, by the setting and by the database', async () => {
  for (const bad of ['0', '-5', '30', '2.5', 'forever'])
    assert.throws(() => parseRetentionDays(bad), /retention-days: .* at least 31 .*retention-days: 90/);
  assert.equal(parseRetentionDays(undefined), 90);
  assert.equal(parseRetentionDays('365'), 365);
  const db = await database();
  for (const days of [0, -1, 30])
    await assert.rejects(
      retentionPage(db, { now: NOW, retentionDays: days, kind: 'events' }),
      /retention_days must be at least 31/,
    );
});

test('the plan setting: free, pro or a size; anything else refused with the fix', () => {
  assert.equal(parseDatabasePlan(undefined).bytes, 500 * 1024 ** 2);
  assert.equal(parseDatabasePlan('Pro').bytes, 8 * 1024 ** 3);
  assert.equal(parseDatabasePlan('2GB').bytes, 2 * 1024 ** 3);
  assert.throws(() => parseDatabasePlan('team'), /database-plan: "team" .* free \(500 MB\), pro \(8 GB\)/);
});

test('a tick’s retention takes a bounded number of pages of each kind, and the size is sampled once a day', async () => {
  const db = await database();
  await db.query(
    `insert into events (line_user_id, type, occurred_at, inserted_at, status)
     select $1, 'purchased', $2, $2, 'done' from generate_series(1, 10500)`,
    [U(9), iso(OLD)],
  );
  const first = await keepWithinRetention(db, NOW, 90);
  assert.equal(first.removed.events, 10_000, 'five pages of 2,000');
  assert.equal(first.more, true);
  const second = await retentionPhase(db, NOW + DAY, { retentionDays: 90 });
  assert.equal(second.retention?.removed.events, 500);
  assert.equal(second.retention?.more, false);
  assert.ok(second.storage && second.storage.bytes > 1_000_000);
  assert.equal(second.storage.plan.name, 'Free');
  const sample = await storageSample(db, NOW + DAY);
  assert.ok(sample.then, 'yesterday’s sample is the one to measure against');
  // A run limited to one scenario does not touch the others' rows.
  assert.deepEqual(await retentionPhase(db, NOW, { onlyScenario: 'welcome' }), {});
});

test('growth a month and months left, from two samples', () => {
  const plan = parseDatabasePlan('free');
  const mb = 1024 ** 2;
  const o = outlook(300 * mb, { bytes: 200 * mb, at: NOW - 20 * DAY }, NOW, plan);
  assert.equal(o.growthPerMonth, 150 * mb);
  assert.ok(Math.abs(o.monthsLeft! - 200 / 150) < 1e-9);
  assert.equal(outlook(300 * mb, { bytes: 310 * mb, at: NOW - 20 * DAY }, NOW, plan).monthsLeft, null);
  assert.equal(outlook(300 * mb, null, NOW, plan).growthPerMonth, null);
});

test('a tick removes what is older than its retention and its job summary shows the size against the plan', async () => {
  const s = await serverStore();
  drops.push(s.drop);
  await event(s.db, U(1), OLD, 'done');
  await event(s.db, U(1), RECENT, 'done');
  const result = await runTick({
    store: s.store,
    sender: new NoLineSender(),
    scenarios: [],
    now: () => NOW,
    retentionDays: 31,
    databasePlan: parseDatabasePlan('pro'),
  });
  assert.equal(result.retention?.removed.events, 1, 'the 100-day-old one; the 10-day-old one stays');
  const summary = tickSummary(result, { now: NOW, store: 'test', sender: 'none', mode: 'send', intervalMinutes: 5 });
  assert.match(
    summary,
    /Database: \d+\.\d MB of 8\.00 GB \(Pro plan, 0%\) · growth a month: known after a day of samples\./,
  );
  assert.match(
    summary,
    /Retention \(31 days\): removed 1 events, 0 outbox batches, 0 ended enrollments with 0 deliveries, 0 runs, 0 dispatches, 0 replies\./,
  );
  assert.ok(!summary.includes(U(1)));
  // A day later, with the same size sampled yesterday: growth known, not growing.
  const next = await runTick({ store: s.store, sender: new NoLineSender(), scenarios: [], now: () => NOW + DAY });
  const again = tickSummary(next, { now: NOW + DAY, store: 'test', sender: 'none', mode: 'send', intervalMinutes: 5 });
  assert.match(again, /of 500\.0 MB \(Free plan, \d+%\) · growth [+−][\d.]+ MB a month/);
  assert.match(again, /Retention \(90 days\): removed nothing \(nothing older\)\./);
});

test('the summary warns when the plan is nearly full or fills within two months', () => {
  const plan = parseDatabasePlan('free');
  const mb = 1024 ** 2;
  assert.match(
    storageWarning({ bytes: 460 * mb, growthPerMonth: 1, plan, monthsLeft: 1000 })!,
    /nearly full.*read-only/,
  );
  assert.match(
    storageWarning({ bytes: 300 * mb, growthPerMonth: 150 * mb, plan, monthsLeft: 1.3 })!,
    /within two months/,
  );
  assert.equal(storageWarning({ bytes: 300 * mb, growthPerMonth: 10 * mb, plan, monthsLeft: 20 }), undefined);
  assert.equal(
    storageSentence({ bytes: 300 * mb, growthPerMonth: 10 * mb, plan, monthsLeft: 20 }),
    'Database: 300.0 MB of 500.0 MB (Free plan, 60%) · growth +10.0 MB a month, about 20 months left on the plan.',
  );
});

test('dispatcher records and welcomes by reply: the old ones go, except the newest start and a reply still sending', async () => {
  const db = await database();
  for (const at of [OLD - DAY, OLD, RECENT])
    await db.query(`insert into lsd_dispatches (decided_at, status) values ($1, 'started')`, [iso(at)]);
  // The newest start is old too in a quiet account: the next decision still reads it.
  const quiet = await database();
  await quiet.query(`insert into lsd_dispatches (decided_at, status) values ($1, 'started'), ($2, 'started')`, [
    iso(OLD - DAY),
    iso(OLD),
  ]);
  for (const [key, status, at] of [
    ['a', 'sent', OLD],
    ['b', 'unknown', OLD],
    ['c', 'sending', OLD],
    ['d', 'sent', RECENT],
  ] as const)
    await db.query(`insert into replies (event_key, line_user_id, status, created_at) values ($1, $2, $3, $4)`, [
      key,
      U(1),
      status,
      iso(at),
    ]);
  assert.equal((await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'dispatches' })).deleted, 2);
  assert.equal((await retentionPage(quiet, { now: NOW, retentionDays: 90, kind: 'dispatches' })).deleted, 1);
  const [left] = await quiet.query<{ at: Date }>(`select decided_at as at from lsd_dispatches`);
  assert.equal(new Date(left!.at).getTime(), OLD);
  assert.equal((await retentionPage(db, { now: NOW, retentionDays: 90, kind: 'replies' })).deleted, 2);
  const keys = await db.query<{ event_key: string }>(`select event_key from replies order by event_key`);
  assert.deepEqual(
    keys.map((k) => k.event_key),
    ['c', 'd'],
  );
});

test('every statement of every retention page is served by an index: no table is read whole (auto_explain of the nested statements)', async () => {
  const s = await serverStore();
  drops.push(s.drop);
  await s.db.exec(`
    insert into events (line_user_id, type, occurred_at, inserted_at, status)
      select 'U' || lpad(to_hex(g % 500), 32, '0'), 'purchased', t, t, 'done'
      from generate_series(1, 5000) g, lateral (select timestamptz '${iso(OLD)}' - g * interval '1 minute' as t) x;
    insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, ended_at, scenario_hash, shard_key)
      select 'welcome', 'U' || lpad(to_hex(g % 1000), 32, '0'), case when g <= 1000 and g % 10 = 0 then 'active' else 'finished' end, 's1',
             timestamptz '${iso(OLD)}' - g * interval '1 hour', timestamptz '${iso(OLD)}' - g * interval '1 hour',
             case when g % 10 <> 0 then timestamptz '${iso(OLD)}' - g * interval '1 minute' end, 'h', 0
      from generate_series(1, 5000) g;
    insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status)
      select id, scenario_id, 's1', line_user_id, 'send', entered_at, 'sent' from enrollments;
    insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, status, sent_at, created_at, updated_at)
      select 'welcome', 's1', 'push', '[]', array['U1'], (array['sent','failed','skipped'])[1 + g % 3], t, t, t
      from generate_series(1, 5000) g, lateral (select timestamptz '${iso(OLD)}' - g * interval '1 minute' as t) x;
    insert into runs (started_at, shard_index, status)
      select timestamptz '${iso(OLD)}' - g * interval '30 minutes', g % 2, 'ok' from generate_series(1, 5000) g;
    insert into lsd_dispatches (decided_at, status)
      select timestamptz '${iso(OLD)}' - g * interval '30 minutes', 'started' from generate_series(1, 5000) g;
    insert into replies (event_key, line_user_id, status, created_at)
      select 'k' || g, 'U1', 'sent', timestamptz '${iso(OLD)}' - g * interval '30 minutes' from generate_series(1, 5000) g;
    analyze;`);
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  const plans: string[] = [];
  client.on('notice', (n) => plans.push(n.message ?? ''));
  await client.query(`load 'auto_explain'`);
  await client.query(`set auto_explain.log_min_duration = 0`);
  await client.query(`set auto_explain.log_nested_statements = on`);
  await client.query(`set auto_explain.log_level = 'notice'`);
  for (const kind of RETENTION_KINDS) {
    const r = await client.query<{ r: { deleted: number } }>('select lsd_retention($1::jsonb) as r', [
      JSON.stringify({ now: NOW, retention_days: 90, kind, limit: 500 }),
    ]);
    assert.ok(r.rows[0]!.r.deleted > 0, `${kind}: a page removed rows`);
  }
  await client.end();
  const text = plans.join('\n');
  assert.match(text, /Index (Only )?Scan/);
  for (const table of ['events', 'enrollments', 'deliveries', 'outbox_batches', 'runs', 'lsd_dispatches', 'replies'])
    assert.doesNotMatch(text, new RegExp(`Seq Scan on ${table}\\b`), `${table} read whole:\n${text}`);
});

test('what a pass keeps is read again a day later, not every tick; a row that became removable then goes', async () => {
  const db = await database();
  await enrollment(db, { user: U(3), status: 'active', entered: OLD - 30 * DAY });
  for (let i = 0; i < 6; i++) await event(db, U(3), OLD - 20 * DAY + i, 'done');
  const page = (now: number) => retentionPage(db, { now, retentionDays: 90, kind: 'events', limit: 4 });
  assert.deepEqual([(await page(NOW)).examined, (await page(NOW)).examined], [4, 2], 'the first pass reads all six');
  assert.equal((await page(NOW + 60_000)).examined, 0, 'the same day: nothing read again');
  // A new event ages past the cutoff: read as it comes, without the kept ones.
  await event(db, U(8), NOW - 91 * DAY, 'done');
  assert.deepEqual(await page(NOW + 120_000).then((r) => [r.examined, r.deleted]), [1, 1]);
  // The user's enrollment ends: a day later the pass reads the six again, and they go.
  await db.query(`update enrollments set status = 'finished', ended_at = $1`, [iso(NOW)]);
  const later = [await page(NOW + DAY + 1), await page(NOW + DAY + 2)];
  assert.deepEqual(
    later.map((r) => [r.examined, r.deleted]),
    [
      [4, 4],
      [2, 2],
    ],
  );
});

test('a page that finds nothing leaves a cursor the next page can read: retention goes on for every kind', async () => {
  const db = await database();
  for (const kind of RETENTION_KINDS) {
    // Nothing old yet: the page moves its cursor past nothing.
    await retentionPage(db, { now: NOW, retentionDays: 90, kind });
  }
  const old = await event(db, U(9), OLD, 'done');
  for (const kind of RETENTION_KINDS) await retentionPage(db, { now: NOW + 60_000, retentionDays: 90, kind });
  assert.ok(!(await ids(db, 'events')).has(String(old)), 'the old settled event went on the next page');
});
