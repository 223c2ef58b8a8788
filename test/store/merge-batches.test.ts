// One step's identical message is one set of multicasts, whatever the lanes and pages that
// planned it (issue 13 item 8): the claim packs never-attempted batches of the same step and
// message together, and each delivery follows its recipient to the batch that is sent. A
// batch that was attempted keeps its id and recipients: a retry repeats the same request.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender, type Sender, type SendReport } from '../../src/line/sender.js';
import { compileScenario } from '../../src/scenario/compile.js';
import type { OutboxBatch } from '../../src/domain.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { serverStore } from '../support/db.js';
import { baseScenario } from '../support/scenarios.js';
import { Clock } from '../support/clock.js';

const reminder = compileScenario(
  baseScenario({
    id: 'cart-reminder',
    steps: [
      {
        id: 'reminder',
        type: 'message',
        wait: { after: { hours: 1 } },
        messages: [{ type: 'text', text: 'カートに商品が残っています' }],
      },
    ],
  } as never),
);
const userId = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const START = Date.parse('2026-11-25T03:00:00Z');

async function abandonCarts(db: SqlRpc, from: number, to: number, at: number): Promise<void> {
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at)
     select 'U' || lpad(to_hex(u), 32, '0'), 'cart_abandoned', '{}', to_timestamp($1 / 1000.0) from generate_series($2::int, $3::int) u`,
    [at, from, to],
  );
}

test('two lanes with small pages: 1,203 recipients of one step go as 3 multicasts, each delivery pointing at its sent batch', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(START);
    await runTick({ store, sender: new NoLineSender(), scenarios: [reminder], now: clock.now });
    await abandonCarts(db, 1, 1203, clock.advance(60_000));
    clock.advance(3_600_000);
    const sender = new NoLineSender();
    const result = await runTick({ store, sender, scenarios: [reminder], now: clock.now, pageSize: 100, lanes: 2 });
    assert.equal(result.counts.total('sent'), 1203);
    assert.deepEqual(
      sender.sent.map((b) => [b.kind, b.recipients.length]),
      [
        ['multicast', 500],
        ['multicast', 500],
        ['multicast', 203],
      ],
    );
    const everyone = sender.sent.flatMap((b) => b.recipients).sort();
    assert.deepEqual(everyone, Array.from({ length: 1203 }, (_, i) => userId(i + 1)).sort(), 'every user once');
    const rows = await db.query<{ batch_id: string; status: string; line_user_id: string }>(
      `select batch_id, status, line_user_id from deliveries`,
    );
    assert.equal(rows.length, 1203);
    const sentTo = new Map(sender.sent.flatMap((b) => b.recipients.map((r) => [r, b.id] as const)));
    for (const r of rows) {
      assert.equal(r.status, 'sent');
      assert.equal(r.batch_id, sentTo.get(r.line_user_id), 'the delivery names the batch its user was sent in');
    }
    const batches = await db.query<{ n: number }>(`select count(*)::int as n from outbox_batches`);
    assert.equal(batches[0]!.n, 3, 'the emptied batches are gone');
  } finally {
    await drop();
  }
});

test('five users in two lanes: one multicast of 5, not 3 + 2', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(START);
    await runTick({ store, sender: new NoLineSender(), scenarios: [reminder], now: clock.now });
    await abandonCarts(db, 1, 5, clock.advance(60_000));
    clock.advance(3_600_000);
    const sender = new NoLineSender();
    await runTick({ store, sender, scenarios: [reminder], now: clock.now, lanes: 2 });
    assert.deepEqual(
      sender.sent.map((b) => b.recipients.length),
      [5],
    );
  } finally {
    await drop();
  }
});

test('while planning goes on, multicasts not yet full wait for a merging claim: 3 steps of 1,800 users in pages of 10 go as 12 multicasts, not one per page', async () => {
  const { store, db, drop } = await serverStore();
  try {
    // Three scenarios on the same event, one step each: three groups of identical messages.
    const three = ['a', 'b', 'c'].map((k) =>
      compileScenario(
        baseScenario({
          id: `cart-reminder-${k}`,
          steps: [
            { id: 'reminder', type: 'message', wait: { after: { hours: 1 } }, messages: [{ type: 'text', text: k }] },
          ],
        } as never),
      ),
    );
    const clock = new Clock(START);
    await runTick({ store, sender: new NoLineSender(), scenarios: three, now: clock.now });
    await abandonCarts(db, 1, 1800, clock.advance(60_000));
    await runTick({ store, sender: new NoLineSender(), scenarios: three, now: clock.now });
    clock.advance(3_600_000);
    const sender = new NoLineSender();
    // No merging claim until planning ends: every partial multicast waits for it.
    const result = await runTick({
      store,
      sender,
      scenarios: three,
      now: clock.now,
      pageSize: 10,
      lanes: 2,
      mergingClaimEveryMs: 3_600_000,
    });
    assert.equal(result.counts.total('sent'), 5400);
    const byStep = new Map<string, number[]>();
    for (const b of sender.sent) byStep.set(b.scenarioId, [...(byStep.get(b.scenarioId) ?? []), b.recipients.length]);
    for (const sizes of byStep.values())
      assert.deepEqual(
        sizes.sort((x, y) => y - x),
        [500, 500, 500, 300],
      );
    assert.equal(sender.sent.length, 12);
  } finally {
    await drop();
  }
});

/** Answers "no answer" (LINE may have accepted it) to the first batch, then "sent". */
class FirstTimesOut implements Sender {
  readonly label = 'first times out';
  readonly sent: OutboxBatch[] = [];
  async send(batch: OutboxBatch): Promise<SendReport> {
    this.sent.push(batch);
    return this.sent.length === 1 ? { outcome: 'uncertain', error: { message: 'timeout' } } : { outcome: 'sent' };
  }
}

test('a batch that may have reached LINE is retried as it was: the same step planned later is not merged into it', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(START);
    await runTick({ store, sender: new NoLineSender(), scenarios: [reminder], now: clock.now });
    await abandonCarts(db, 1, 3, clock.advance(60_000));
    clock.advance(3_600_000);
    const sender = new FirstTimesOut();
    await runTick({ store, sender, scenarios: [reminder], now: clock.now });
    assert.equal(sender.sent.length, 1);
    const first = sender.sent[0]!;
    await abandonCarts(db, 4, 5, clock.advance(60_000));
    clock.advance(3_600_000);
    await runTick({ store, sender, scenarios: [reminder], now: clock.now });
    const retried = sender.sent.slice(1).find((b) => b.id === first.id);
    assert.ok(retried, 'the uncertain batch is sent again with its retry key');
    assert.deepEqual(retried.recipients, first.recipients, 'with the same recipients');
    assert.deepEqual(
      sender.sent
        .slice(1)
        .map((b) => b.recipients.length)
        .sort(),
      [2, 3],
    );
  } finally {
    await drop();
  }
});
