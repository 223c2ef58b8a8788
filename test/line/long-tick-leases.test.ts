// Leases fit long ticks (issue 16 item 6): a tick that sends for longer than its lease
// renews the leases it holds, so a second tick started meanwhile takes over none of the
// first's work in flight (it would mark an attempt in progress uncertain and send it again).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { NoLineSender } from '../../src/line/sender.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { serverStore } from '../support/db.js';
import { baseScenario } from '../support/scenarios.js';
import { LineServer } from '../support/line-server.js';

// One personalized step, sent at once: a push per user.
const scenario = compileScenario(
  baseScenario({
    id: 'order-note',
    steps: [
      { id: 'note', type: 'message', messages: [{ type: 'text', text: 'ご注文 {{trigger.order|-}} を承りました' }] },
    ],
  } as never),
);
const USERS = 12;
const LATENCY_MS = 300;

test('a tick sending for longer than its 2 s lease renews it: a second tick started meanwhile claims nothing, nobody gets a step twice', async () => {
  const { store, db, open, drop } = await serverStore();
  const server = await new LineServer({ latencyMs: LATENCY_MS }).start();
  try {
    await runTick({ store, sender: new NoLineSender(), scenarios: [scenario], now: Date.now });
    await db.query(
      `insert into events (line_user_id, type, properties, occurred_at)
       select 'U' || lpad(to_hex(u), 32, '0'), 'cart_abandoned', jsonb_build_object('order', 'A-' || u), now()
       from generate_series(1, ${USERS}) u`,
    );
    // One request at a time over a 300 ms round trip: 12 pushes take about 3.6 s.
    const slow = new LineSender({
      channelAccessToken: server.token,
      baseURL: server.url,
      concurrency: 1,
      backoffMs: 5,
    });
    const first = runTick({
      store,
      sender: slow,
      scenarios: [scenario],
      now: Date.now,
      leaseSeconds: 2,
      owner: 'first',
    });
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    const other = await open();
    const another = new LineSender({ channelAccessToken: server.token, baseURL: server.url, backoffMs: 5 });
    const second = await runTick({
      store: other,
      sender: another,
      scenarios: [scenario],
      now: Date.now,
      leaseSeconds: 2,
      owner: 'second',
    });
    const done = await first;

    assert.equal(second.counts.total('sent'), 0, "the second tick sent nothing of the first one's work");
    assert.equal(second.counts.uncertain, 0);
    assert.equal(done.counts.total('sent'), USERS);
    assert.equal(server.requests.filter((r) => r.status === 409).length, 0, 'no batch was sent again');
    const perUser = new Map<string, number>();
    for (const r of server.received) perUser.set(r.to, (perUser.get(r.to) ?? 0) + 1);
    assert.equal(perUser.size, USERS);
    assert.deepEqual([...new Set(perUser.values())], [1], 'nobody got the step twice');
    const rows = await db.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from outbox_batches group by status`,
    );
    assert.deepEqual(rows, [{ status: 'sent', n: USERS }]);
  } finally {
    await server.stop();
    await drop();
  }
});
