// A whole tick with the database far away (issue 25): through the benchmark's TCP latency
// proxy, 40 ms each round trip, the tick plans in more lanes (one call a page: the commit
// and the next claim), claims larger outbox pages and writes LINE's answers two at a time.
// Whatever the distance, each user gets the step once and every answer is recorded.
import { afterAll, expect, test } from 'vitest';
import { latencyProxy } from '../../bench/distance.js';
import { openPostgres } from '../../src/store/postgres.js';
import { Store } from '../../src/store/store.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { serverStore } from '../support/db.js';
import { baseScenario } from '../support/scenarios.js';

const USERS = 1_500;
const RTT_MS = 40;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

// A push each: the user's own order number in the text.
const scenario = compileScenario(
  baseScenario({
    id: 'far',
    steps: [
      {
        id: 'note',
        type: 'message',
        messages: [{ type: 'text', text: 'ご注文{{trigger.order}}の発送準備が整いました' }],
      },
    ],
  }),
);

test('40 ms from the database: every due user gets the step once, and every answer is recorded', async () => {
  const { db, url, drop } = await serverStore();
  cleanups.push(drop);
  const now = Date.now();
  await runTick({ store: new Store(db), sender: new NoLineSender(), scenarios: [scenario], now: () => now - 60_000 });
  await db.exec(`insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, trigger, scenario_hash, shard_key)
    select 'far', 'U' || lpad(to_hex(g), 32, '0'), '${scenario.first}', now() - interval '1 minute', now() - interval '1 minute',
           now() - interval '1 minute', jsonb_build_object('order', 'A' || g), '${scenario.hash}', lsd_shard_key('U' || lpad(to_hex(g), 32, '0'))
    from generate_series(1, ${USERS}) g`);

  const target = new URL(url);
  const proxy = await latencyProxy({ host: target.hostname, port: Number(target.port || 5432) }, RTT_MS);
  cleanups.push(() => proxy.close());
  target.hostname = '127.0.0.1';
  target.port = String(proxy.port);
  const far = await openPostgres(target.toString());
  cleanups.push(() => far.close());
  const store = new Store(far);
  const sender = new NoLineSender();
  const result = await runTick({ store, sender, scenarios: [scenario], now: Date.now });

  // The tick saw the distance (so it took the far path: lanes, pages and writes sized from it).
  expect(store.roundTripMs).toBeGreaterThanOrEqual(RTT_MS);
  expect(result.counts.total('sent')).toBe(USERS);
  const recipients = sender.sent.flatMap((b) => b.recipients);
  expect(recipients).toHaveLength(USERS);
  expect(new Set(recipients).size).toBe(USERS);
  const states = await db.query<{ what: string; n: string }>(
    `select 'batch ' || status as what, count(*)::text as n from outbox_batches where scenario_id = 'far' group by status
     union all select 'delivery ' || status, count(*)::text from deliveries where scenario_id = 'far' group by status
     union all select 'leased', count(*)::text from outbox_batches where lease_owner is not null
     union all select 'enrollment leased', count(*)::text from enrollments where lease_owner is not null`,
  );
  expect(Object.fromEntries(states.map((r) => [r.what, Number(r.n)]))).toEqual({
    'batch sent': USERS,
    'delivery sent': USERS,
    leased: 0,
    'enrollment leased': 0,
  });
});
