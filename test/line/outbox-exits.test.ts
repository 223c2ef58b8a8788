// The outbox obeys exits, and uncertainty is sticky: whole ticks on the real server, the
// real SDK and the loopback LINE server.
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { compileScenario } from '../../src/scenario/compile.js';
import { runTick } from '../../src/engine/tick.js';
import { tickSummary } from '../../src/report/summary.js';
import { LineSender } from '../../src/line/line-sender.js';
import type { Sender } from '../../src/line/sender.js';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';
import { baseScenario } from '../support/scenarios.js';

// A coupon that goes out as soon as a cart is abandoned, to everyone alike (a multicast),
// and stops for whoever buys.
const coupon = compileScenario(
  baseScenario({
    id: 'cart-coupon',
    exit: [{ event: 'purchased' }],
    steps: [{ id: 'coupon', type: 'message', messages: [{ type: 'text', text: '5%OFF: CART5' }] }],
  }),
);
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const MONTHLY = { kind: 'status', status: 429, body: { message: 'You have reached your monthly limit.' } } as const;
const HOUR = 3600_000;
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function setup(options: ConstructorParameters<typeof LineServer>[0] = {}, scenario = coupon) {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
  const server = await new LineServer({ now: clock.now, ...options }).start();
  const { store, db, drop } = await serverStore();
  cleanup.push(() => server.stop(), drop);
  const line = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 300,
    maxRetries: 1,
  });
  // Without the quota guard, so that LINE itself answers the monthly limit.
  const sender: Sender = { label: 'LINE', concurrency: 1, send: (b) => line.send(b) };
  const tick = () => runTick({ store, sender, scenarios: [scenario], now: clock.now });
  await tick(); // the scenario's first run: it enrolls from events after this
  clock.advance(60_000);
  const event = (user: number, type: string, properties: Record<string, unknown> = {}) =>
    db.query(
      `insert into events (line_user_id, type, properties, occurred_at) values ($1, $2, $3, to_timestamp($4 / 1000.0))`,
      [U(user), type, JSON.stringify(properties), clock.t],
    );
  const batches = () =>
    db.query<{ id: string; status: string; kind: string; recipients: string[]; uncertain: boolean }>(
      `select id, status, kind, recipients, uncertain_since is not null as uncertain from outbox_batches order by created_at`,
    );
  const deliveries = () =>
    db.query<{ to: string; status: string; reason: string | null }>(
      `select line_user_id as "to", status, reason from deliveries order by line_user_id`,
    );
  return { clock, server, store, db, tick, event, batches, deliveries };
}

test('a coupon held back by the monthly limit is not sent to whoever bought or unfollowed meanwhile; the rest get it', async () => {
  const { clock, server, tick, event, batches, deliveries } = await setup({ monthlyLimit: 0 });
  for (const n of [1, 2, 3]) await event(n, 'cart_abandoned');
  const first = await tick();
  assert.equal(first.stoppedBy, 'monthly_limit');
  assert.equal(server.received.length, 0, 'LINE refused the multicast: nobody got it');
  const [held] = await batches();
  assert.deepEqual([held?.status, held?.kind, held?.recipients.length], ['pending', 'multicast', 3]);

  clock.advance(10 * 60_000);
  await event(1, 'purchased');
  await event(2, 'unfollow');
  (server as unknown as { options: { monthlyLimit?: number } }).options.monthlyLimit = undefined; // a new month
  clock.advance(60_000);
  const second = await tick();
  assert.deepEqual(
    server.received.map((r) => r.to),
    [U(3)],
    'only the user who neither bought nor unfollowed gets the coupon',
  );
  assert.deepEqual(
    server.requests.filter((r) => r.status === 200 && r.path.includes('/message/')).map((r) => [r.path, r.retryKey]),
    [['/v2/bot/message/push', held!.id]],
  );
  assert.deepEqual(await deliveries(), [
    { to: U(1), status: 'skipped', reason: 'exited before sending: purchased' },
    { to: U(2), status: 'skipped', reason: 'unfollowed' },
    { to: U(3), status: 'sent', reason: null },
  ]);
  const [after_] = await batches();
  assert.deepEqual([after_?.status, after_?.recipients], ['sent', [U(3)]]);
  assert.equal(second.counts.total('skipped'), 2);
  assert.equal(second.counts.total('sent'), 1);
  const summary = tickSummary(second, {
    now: clock.t,
    store: 'test',
    sender: 'test',
    mode: 'send',
    intervalMinutes: 5,
  });
  assert.match(summary, /## Not sent: the user left before sending/);
  assert.match(summary, /\| cart-coupon \| coupon \| 1 \| exited before sending: purchased \|/);
  assert.match(summary, /\| cart-coupon \| coupon \| 1 \| unfollowed \|/);
  assert.doesNotMatch(summary, /U0000/, 'no user id in the summary');
});

test('a held step is not sent to whoever left while their enrollment is still active (the exit recorded on it)', async () => {
  const twoSteps = compileScenario(
    baseScenario({
      id: 'cart-coupon',
      exit: [{ event: 'purchased' }],
      steps: [
        { id: 'coupon', type: 'message', messages: [{ type: 'text', text: '5%OFF: CART5' }] },
        {
          id: 'last-call',
          type: 'message',
          wait: { after: { days: 2 } },
          messages: [{ type: 'text', text: 'last call' }],
        },
      ],
    }),
  );
  const { clock, server, tick, event, deliveries, db } = await setup({ monthlyLimit: 0 }, twoSteps);
  for (const n of [1, 2]) await event(n, 'cart_abandoned');
  await tick();
  clock.advance(60_000);
  await event(1, 'purchased');
  (server as unknown as { options: { monthlyLimit?: number } }).options.monthlyLimit = undefined;
  await tick();
  const [exited] = await db.query<{ exit_reason: string }>(
    `select exit_reason from enrollments where line_user_id = $1`,
    [U(1)],
  );
  assert.equal(exited?.exit_reason, 'exit: purchased', 'the purchase ended the enrollment');
  assert.deepEqual(
    server.received.map((r) => r.to),
    [U(2)],
  );
  assert.deepEqual(await deliveries(), [
    { to: U(1), status: 'skipped', reason: 'exited before sending: purchased' },
    { to: U(2), status: 'sent', reason: null },
  ]);
});

test('a batch whose every recipient left is never sent', async () => {
  const { clock, server, tick, event, batches, deliveries } = await setup({ monthlyLimit: 0 });
  await event(1, 'cart_abandoned');
  await tick();
  clock.advance(60_000);
  await event(1, 'purchased');
  (server as unknown as { options: { monthlyLimit?: number } }).options.monthlyLimit = undefined;
  const r = await tick();
  assert.equal(server.received.length, 0);
  assert.deepEqual(
    (await batches()).map((b) => b.status),
    ['skipped'],
  );
  assert.deepEqual(await deliveries(), [{ to: U(1), status: 'skipped', reason: 'exited before sending: purchased' }]);
  assert.equal(r.counts.total('skipped'), 1);
});

test('a page of batches whose every recipient left does not end the sending: later batches still go out', async () => {
  const named = compileScenario(
    baseScenario({
      id: 'cart-coupon',
      exit: [{ event: 'purchased' }],
      steps: [
        { id: 'coupon', type: 'message', messages: [{ type: 'text', text: '{{user.displayName|お客様}}: CART5' }] },
      ],
    }),
  );
  const { clock, server, tick, event, db } = await setup({ monthlyLimit: 0 }, named);
  await db.query(
    `insert into events (line_user_id, type, occurred_at)
    select 'U' || lpad(to_hex(g), 32, '0'), 'cart_abandoned', to_timestamp($1 / 1000.0) from generate_series(1, 200) g`,
    [clock.t],
  );
  await tick(); // 200 pushes (one a user: the text is personal), held by the monthly limit
  clock.advance(60_000);
  await event(201, 'cart_abandoned');
  await tick(); // one more, planned later
  clock.advance(60_000);
  await db.query(
    `insert into events (line_user_id, type, occurred_at)
    select 'U' || lpad(to_hex(g), 32, '0'), 'unfollow', to_timestamp($1 / 1000.0) from generate_series(1, 200) g`,
    [clock.t],
  );
  (server as unknown as { options: { monthlyLimit?: number } }).options.monthlyLimit = undefined;
  const r = await tick();
  assert.equal(r.counts.total('skipped'), 200, 'the first page of claimed batches: all 200 unfollowed');
  assert.deepEqual(
    server.received.map((x) => x.to),
    [U(201)],
    'the batch after them still went out in this tick',
  );
});

test('a batch that may already have reached LINE is resent as it was, even after an exit: a retry must be identical', async () => {
  const { clock, server, tick, event, batches } = await setup();
  for (const n of [1, 2]) await event(n, 'cart_abandoned');
  server.faults.push({ kind: 'drop' }, { kind: 'drop' }); // no answer: LINE may have accepted it
  await tick();
  const [uncertain] = await batches();
  assert.deepEqual([uncertain?.status, uncertain?.uncertain], ['pending', true]);
  clock.advance(60_000);
  await event(1, 'purchased');
  clock.advance(60_000);
  await tick();
  const multicasts = server.requests.filter((r) => r.path.endsWith('/multicast'));
  assert.deepEqual(
    multicasts.map((r) => r.status),
    [0, 0, 200],
    'the same request, with the same recipients',
  );
  assert.deepEqual(server.received.map((r) => r.to).sort(), [U(1), U(2)]);
  assert.deepEqual(
    (await batches()).map((b) => [b.status, b.recipients.length]),
    [['sent', 2]],
  );
});

test('uncertainty is sticky: accepted then dropped, then a monthly-limit 429, then 25 h later: needs review, never resent', async () => {
  const { clock, server, tick, event, batches, deliveries } = await setup();
  await event(1, 'cart_abandoned');
  // LINE accepts the push (the user gets it), the connection drops; the retry gets no answer.
  server.faults.push({ kind: 'accept-then-drop' }, { kind: 'drop' });
  const first = await tick();
  assert.equal(first.counts.uncertain, 1);
  assert.equal(server.received.length, 1, 'the user got the coupon');
  clock.advance(5 * 60_000);
  server.faults.push(MONTHLY); // the next tick's attempt is answered with the monthly limit
  const second = await tick();
  assert.equal(second.stoppedBy, 'monthly_limit');
  assert.deepEqual(
    (await batches()).map((b) => [b.status, b.uncertain]),
    [['pending', true]],
    'the 429 did not clear the mark',
  );
  clock.advance(25 * HOUR); // past LINE's 24-hour memory of the retry key
  const third = await tick();
  assert.equal(third.attention.needsReview, 1);
  assert.deepEqual(
    (await batches()).map((b) => b.status),
    ['needs_review'],
  );
  assert.deepEqual(
    (await deliveries()).map((d) => d.status),
    ['needs_review'],
  );
  assert.equal(server.received.length, 1, 'the user got the step once');
  assert.equal(server.requests.filter((r) => r.path.endsWith('/push')).length, 3, 'nothing was sent 25 h later');
});

for (const [name, later] of [
  ['the monthly limit', MONTHLY],
  ['a 401', { kind: 'status', status: 401, body: { message: 'Authentication failed.' } }],
  [
    'a rate-limit 429',
    { kind: 'status', status: 429, body: { message: 'The API rate limit has been exceeded. Try again later.' } },
  ],
] as const) {
  test(`uncertainty is sticky within one send too: accepted then dropped, the retry answered with ${name}`, async () => {
    const { clock, server, tick, event, batches } = await setup();
    await event(1, 'cart_abandoned');
    server.faults.push({ kind: 'accept-then-drop' }, later);
    const first = await tick();
    assert.equal(first.counts.uncertain, 1);
    assert.deepEqual(
      (await batches()).map((b) => [b.status, b.uncertain]),
      [['pending', true]],
    );
    clock.advance(25 * HOUR);
    const late = await tick();
    assert.equal(late.attention.needsReview, 1);
    assert.equal(server.received.length, 1, 'not resent after LINE forgot the retry key');
  });
}
