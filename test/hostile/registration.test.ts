// A scenario definition the store refuses (issue 27 item 1) holds only itself: the other
// scenarios go on, its users keep their place, and the summary names its file and step
// under "Needs a person". The definition comes past validation here on purpose (what a
// gap in validation, or an older release's validation, would let through).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runTick } from '../../src/engine/tick.js';
import { compileScenario } from '../../src/scenario/compile.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { NoLineSender } from '../../src/line/sender.js';
import { needsAPerson } from '../../src/report/summary.js';
import { localToInstant, MINUTE } from '../../src/time/zoned.js';
import { serverStore } from '../support/db.js';
import { Clock } from '../support/clock.js';

const U = (n: number) => `U${String(n).padStart(32, '0')}`;
const text = (t: string) => ({ type: 'text' as const, text: t });

const good: Scenario = {
  id: 'good',
  version: 1,
  entry: { trigger: { type: 'follow' } },
  steps: [{ id: 'hello', type: 'message', messages: [text('hi')] }],
};
const slow = (later: string): Scenario => ({
  id: 'slow',
  version: 1,
  entry: { trigger: { type: 'follow' } },
  steps: [
    { id: 'first', type: 'message', messages: [text('one')] },
    { id: 'later', type: 'message', wait: { after: { days: 1 } }, messages: [text(later)] },
  ],
});
const compiled = (s: Scenario) => ({ ...compileScenario(s), file: `scenarios/${s.id}.json` });

test('a definition the store refuses holds only its own scenario, and the summary names its file and step', async () => {
  const { store, db, drop } = await serverStore();
  try {
    const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 12, 7, 12, 0));
    const sender = new NoLineSender();
    const tick = (scenarios: Scenario[]) =>
      runTick({ store, sender, scenarios: scenarios.map(compiled), now: clock.now });
    const follow = (n: number) =>
      db.query(
        `insert into events (line_user_id, type, occurred_at) values ($1, 'follow', to_timestamp($2 / 1000.0))`,
        [U(n), clock.t],
      );
    await tick([good, slow('two')]);
    clock.advance(MINUTE);
    await follow(1);
    await tick([good, slow('two')]);
    const before = await db.query<{ scenario_id: string; step_id: string }>(
      `select scenario_id, step_id from enrollments where status = 'active' order by scenario_id`,
    );

    // The edited file holds a NUL, which PostgreSQL's jsonb cannot store.
    clock.advance(MINUTE);
    await follow(2);
    const result = await tick([good, slow('two\u0000')]);
    const reasons = needsAPerson(result).join('\n');
    assert.match(
      reasons,
      /scenario slow could not be registered: scenarios\/slow\.json: step "later", \$\.steps\[1\]\.messages\[0\]\.text contains a NUL character/,
    );
    assert.match(reasons, /held where they are/);
    assert.doesNotMatch(reasons, /scenario file missing/);
    // The other scenario went on: the new follower got its welcome.
    const welcomed = await db.query(`select 1 from deliveries where scenario_id = 'good' and line_user_id = $1`, [
      U(2),
    ]);
    assert.equal(welcomed.length, 1);
    // The held scenario kept its user where it was, with its last registered definition.
    const slowNow = await db.query<{ step_id: string; scenario_hash: string }>(
      `select step_id, scenario_hash from enrollments where scenario_id = 'slow' and status = 'active' and line_user_id = $1`,
      [U(1)],
    );
    assert.deepEqual(
      slowNow.map((r) => r.step_id),
      before.filter((r) => r.scenario_id === 'slow').map((r) => r.step_id),
    );
    assert.equal(slowNow[0]!.scenario_hash, compiled(slow('two')).hash);

    // Fixed: registered again, and nothing needs a person for it.
    clock.advance(MINUTE);
    const fixed = await tick([good, slow('two, fixed')]);
    assert.doesNotMatch(needsAPerson(fixed).join('\n'), /slow/);
  } finally {
    await drop();
  }
});

test("an error that is no definition's fault still stops the tick", async () => {
  const { store, drop } = await serverStore();
  try {
    const broken = Object.create(store) as typeof store;
    broken.registerScenarios = () =>
      Promise.reject(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
    await assert.rejects(
      runTick({ store: broken, sender: new NoLineSender(), scenarios: [compiled(good)], now: () => Date.now() }),
      /connection reset/,
    );
  } finally {
    await drop();
  }
});
