// A matrix of ticks on GitHub's own engine: each shard takes its share of the users.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { pgliteStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

test('shards of a matrix share the users: disjoint, and together everyone', async () => {
  const { scenarios } = await loadScenarioDir('scenarios');
  const vip = scenarios.filter((s) => s.scenario.id === 'vip-list').map((s) => s.compiled);
  const { store, db } = await pgliteStore();
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
  await runTick({ store, sender: new NoLineSender(), scenarios: vip, now: clock.now });
  clock.advance(60_000);
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at) select 'U' || lpad(to_hex(g), 32, '0'), 'list_added', '{"list": "vip-2026"}', to_timestamp($1 / 1000.0) from generate_series(1, 300) g`,
    [clock.t],
  );
  const shards = [new NoLineSender(), new NoLineSender(), new NoLineSender()];
  for (const [i, sender] of shards.entries())
    await runTick({ store, sender, scenarios: vip, now: clock.now, shardIndex: i, shardCount: 3 });
  const got = shards.map((s) => s.sent.flatMap((b) => b.recipients));
  const all = got.flat();
  assert.equal(all.length, 300, 'everyone once');
  assert.equal(new Set(all).size, 300);
  assert.ok(
    got.every((g) => g.length > 60),
    `each shard got a share: ${got.map((g) => g.length).join(', ')}`,
  );
  await db.close();
});
