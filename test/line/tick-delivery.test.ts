// Delivery through whole ticks: the store, the real SDK and the loopback LINE server.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import type { Sender } from '../../src/line/sender.js';
import { pgliteStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';

const { scenarios } = await loadScenarioDir('scenarios');
const vip = scenarios.filter((s) => s.scenario.id === 'vip-list').map((s) => s.compiled);
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const servers: LineServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function setup(options: ConstructorParameters<typeof LineServer>[0] = {}) {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z')); // 11:00 in Tokyo, inside the window
  const server = await new LineServer({ now: clock.now, ...options }).start();
  servers.push(server);
  const { store, db } = await pgliteStore();
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 300,
  });
  await runTick({ store, sender, scenarios: vip, now: clock.now });
  clock.advance(60_000);
  const addList = async (from: number, count: number) => {
    await db.query(
      `insert into events (line_user_id, type, properties, occurred_at) select 'U' || lpad(to_hex(g), 32, '0'), 'list_added', '{"list": "vip-2026"}', to_timestamp($1 / 1000.0) from generate_series($2::int, $3::int) g`,
      [clock.t, from, from + count - 1],
    );
  };
  return { clock, server, store, db, sender, addList };
}

test('a crash between send and record: the next tick resends with the same retry key and LINE answers 409', async () => {
  const { clock, server, store, db, sender, addList } = await setup();
  await addList(1, 3);
  const crashing: Sender = {
    label: 'crashes after LINE accepted',
    send: async (batch) => {
      await sender.send(batch);
      throw new Error('process killed');
    },
  };
  await assert.rejects(
    runTick({ store, sender: crashing, scenarios: vip, now: clock.now, leaseSeconds: 60 }),
    /process killed/,
  );
  assert.equal(server.received.length, 3, 'LINE accepted the multicast');
  const [pending] = await db.query<{ id: string; status: string }>(`select id, status from outbox_batches`);
  assert.equal(pending?.status, 'pending', 'not recorded: still pending');
  clock.advance(2 * 60_000); // the lease runs out
  const r = await runTick({ store, sender, scenarios: vip, now: clock.now });
  assert.equal(r.counts.total('sent'), 3);
  assert.deepEqual(
    server.requests.filter((q) => q.path.endsWith('multicast')).map((q) => [q.status, q.retryKey]),
    [
      [200, pending.id],
      [409, pending.id],
    ],
  );
  assert.equal(server.received.length, 3, 'nobody got it twice');
  const [done] = await db.query<{ status: string }>(`select status from outbox_batches`);
  assert.equal(done?.status, 'sent');
});

test('a tick killed between commit and send: the next tick sends the pending batch with its own id as the retry key', async () => {
  const { clock, server, store, db, sender, addList } = await setup();
  await addList(1, 2);
  await runTick({ store, sender, scenarios: vip, now: clock.now, stopAfter: 'commit' });
  assert.equal(server.received.length, 0, 'killed before sending');
  const [pending] = await db.query<{ id: string; status: string }>(`select id, status from outbox_batches`);
  assert.equal(pending?.status, 'pending');
  clock.advance(5 * 60_000);
  const r = await runTick({ store, sender, scenarios: vip, now: clock.now });
  assert.equal(r.counts.total('sent'), 2);
  assert.deepEqual([...new Set(server.received.map((x) => x.retryKey))], [pending.id]);
  assert.equal(server.received.length, 2);
});

test('a batch left pending past the retry-key window after an uncertain attempt is never resent blindly', async () => {
  const { clock, server, store, db, addList } = await setup();
  await addList(1, 2);
  const down: Sender = {
    label: 'LINE never answers',
    send: async () => ({ outcome: 'uncertain', error: { message: 'timeout' } }),
  };
  await runTick({ store, sender: down, scenarios: vip, now: clock.now });
  clock.advance(24 * 3600_000);
  const r = await runTick({
    store,
    sender: new LineSender({ channelAccessToken: server.token, baseURL: server.url }),
    scenarios: vip,
    now: clock.now,
  });
  assert.equal(server.received.length, 0, 'not resent');
  assert.equal(r.attention.needsReview, 1);
  const rows = await db.query<{ status: string }>(`select status from deliveries`);
  assert.deepEqual(
    rows.map((x) => x.status),
    ['needs_review', 'needs_review'],
  );
});

test('a monthly-limit 429 leaves the rest pending; the next tick, with quota again, finishes them', async () => {
  const { clock, server, store, db, sender, addList } = await setup({ monthlyLimit: 600 });
  await addList(1, 1200); // three multicasts of 500, 500 and 200
  // Without the quota guard (LINE's consumption figure can lag), so LINE itself says no.
  const unguarded: Sender = { label: 'LINE', concurrency: 1, send: (b) => sender.send(b) };
  const first = await runTick({ store, sender: unguarded, scenarios: vip, now: clock.now });
  assert.equal(first.stoppedBy, 'monthly_limit');
  assert.equal(first.counts.total('sent'), 500);
  assert.equal(server.received.length, 500);
  const pending = await db.query<{ n: string }>(
    `select sum(cardinality(recipients))::text as n from outbox_batches where status = 'pending'`,
  );
  assert.equal(pending[0]?.n, '700');
  (server as unknown as { options: { monthlyLimit?: number } }).options.monthlyLimit = undefined; // a new month
  clock.advance(5 * 60_000);
  const second = await runTick({ store, sender, scenarios: vip, now: clock.now });
  assert.equal(second.counts.total('sent'), 700);
  assert.equal(new Set(server.received.map((r) => r.to)).size, 1200);
  assert.equal(server.received.length, 1200, 'each user once');
});

test('the quota guard holds back a batch that would cross the reserve, and says so', async () => {
  const { clock, server, store, sender, addList } = await setup({ monthlyLimit: 1000 });
  await addList(1, 700);
  const r = await runTick({ store, sender, scenarios: vip, now: clock.now, quotaReserve: 400 });
  assert.equal(r.counts.total('sent'), 500);
  assert.equal(r.counts.heldBackByQuota, 200);
  assert.equal(server.received.length, 500);
});

test("a 400 fails only its own batch, with LINE's message", async () => {
  const { clock, server, store, db, sender, addList } = await setup();
  await addList(1, 600); // a multicast of 500 and one of 100
  server.faultsFor.set(U(550), {
    kind: 'status',
    status: 400,
    body: { message: 'The request body has 1 error(s)', details: [{ message: 'invalid', property: 'to[49]' }] },
  });
  const r = await runTick({ store, sender, scenarios: vip, now: clock.now });
  // Users due at the same moment are claimed in no particular order: U(550) is in either batch.
  const failed = r.counts.total('failed');
  assert.ok(failed === 100 || failed === 500, `one whole batch failed (${failed})`);
  assert.equal(r.counts.total('sent'), 600 - failed, 'the other was sent');
  assert.deepEqual(
    r.counts.failures.map((f) => f.reason),
    ['The request body has 1 error(s)'],
  );
  const statuses = await db.query<{ status: string; n: string }>(
    `select status, count(*)::text as n from deliveries group by status order by status`,
  );
  assert.deepEqual(
    statuses.map((s) => `${s.status} ${s.n}`),
    [`failed ${failed}`, `sent ${600 - failed}`],
  );
});
