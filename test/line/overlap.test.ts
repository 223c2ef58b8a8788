// Planning overlapped with sending (issue 16 item 3): the sender claims committed batches
// while the planner lanes still plan, so a tick with a million due sends its first batch
// seconds after it starts instead of after planning everything.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender, type SendReport } from '../../src/line/sender.js';
import { compileScenario } from '../../src/scenario/compile.js';
import type { OutboxBatch } from '../../src/domain.js';
import { serverStore } from '../support/db.js';
import { baseScenario } from '../support/scenarios.js';

// One personalized step, sent at once: a push per user.
const scenario = compileScenario(
  baseScenario({
    id: 'order-note',
    steps: [
      { id: 'note', type: 'message', messages: [{ type: 'text', text: 'ご注文 {{trigger.order|-}} を承りました' }] },
    ],
  } as never),
);
const USERS = 1200;

class TimedSender extends NoLineSender {
  readonly times: number[] = [];
  override async send(batch: OutboxBatch): Promise<SendReport> {
    this.times.push(performance.now());
    return super.send(batch);
  }
}

test('the first batch goes out while the planner lanes still commit pages; everyone gets the step once', async () => {
  const { store, db, drop } = await serverStore();
  try {
    await runTick({ store, sender: new NoLineSender(), scenarios: [scenario], now: Date.now });
    await db.query(
      `insert into events (line_user_id, type, properties, occurred_at)
       select 'U' || lpad(to_hex(u), 32, '0'), 'cart_abandoned', jsonb_build_object('order', 'A-' || u), now()
       from generate_series(1, ${USERS}) u`,
    );
    const commits: number[] = [];
    // A page is committed alone (a lane's last) or with the lane's next claim.
    const commit = store.commitPlans.bind(store);
    store.commitPlans = async (args) => {
      const answer = await commit(args);
      commits.push(performance.now());
      return answer;
    };
    const commitAndClaim = store.commitAndClaim.bind(store);
    store.commitAndClaim = async (args, claim) => {
      const answer = await commitAndClaim(args, claim);
      if (claim) commits.push(performance.now());
      return answer;
    };
    const sender = new TimedSender();
    const result = await runTick({ store, sender, scenarios: [scenario], now: Date.now, pageSize: 20, lanes: 2 });

    assert.equal(result.counts.total('sent'), USERS);
    assert.ok(commits.length >= USERS / 20, `${commits.length} planning pages`);
    const firstSend = Math.min(...sender.times);
    const pagesAfter = commits.filter((t) => t > firstSend).length;
    assert.ok(
      pagesAfter > 0,
      `the first send came before the last planning page (${pagesAfter} pages committed after it)`,
    );
    const recipients = sender.sent.flatMap((b) => b.recipients);
    assert.equal(new Set(recipients).size, USERS);
    assert.equal(recipients.length, USERS, 'nobody got it twice');
  } finally {
    await drop();
  }
});
