// A sending tick beats its run's heartbeat while it runs (the dispatcher starts no second
// run while it is recent), and the counts it leaves say when max-messages held work back.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { pgliteStore } from '../support/db.js';
import { LeaseKeeper } from '../../src/engine/lease-keeper.js';
import { TickCounts } from '../../src/engine/counts.js';

test('each renewal beats the run heartbeat, even with no lease held', async () => {
  const { store, db } = await pgliteStore();
  const started = Date.parse('2026-12-07T01:00:00Z');
  const run = await store.runStart({ now: started, shardIndex: 0, shardCount: 1, dryRun: false, trigger: 'dispatch' });
  let now = started + 120_000;
  const keeper = new LeaseKeeper({ store, owner: 'tick-a', leaseSeconds: 300, now: () => now, runId: run.id });
  await keeper.renew();
  const beat = async () =>
    (await db.query<{ at: string }>(`select heartbeat_at::text as at from runs where id = $1`, [run.id]))[0]!.at;
  assert.equal(Date.parse(await beat()), started + 120_000);
  now += 100_000;
  await keeper.renew();
  assert.equal(Date.parse(await beat()), started + 220_000);
  await db.close();
});

test('a tick held back by max-messages says so in the counts the dispatcher reads', () => {
  const counts = new TickCounts();
  assert.equal(counts.toJSON().heldBackByMaxMessages, false);
  counts.heldBackByMaxMessages = true;
  assert.equal(JSON.parse(JSON.stringify(counts)).heldBackByMaxMessages, true);
});
