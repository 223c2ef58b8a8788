// The holdout invariant through whole ticks (issue 26, docs/measuring.md) on the real
// PostgreSQL server, the real SDK and the loopback LINE server: whatever the events (goals,
// clicks that branch), the branches and the edits of the scenario (texts, steps added) made
// while users are inside, a held-out user is never sent a step of the scenario and never
// has a rich menu linked by it, while their tags change as everyone's and each held-out
// step is recorded; the report's comparison counts the groups as the planner made them.
import { test } from '@fast-check/vitest';
import { afterAll } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { isHeldOut } from '../../src/planner/holdout.js';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';
import { HOUR, MINUTE, DAY } from '../../src/time/zoned.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const MENU = `richmenu-${'c'.repeat(32)}`;
const servers: LineServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const text = (t: string) => [{ type: 'text' as const, text: t }];

function cart(edit: boolean): Scenario {
  const later = edit ? [{ id: 'added', type: 'message' as const, messages: text('added by an edit') }] : [];
  return {
    id: 'cart',
    version: edit ? 2 : 1,
    entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
    goal: { event: 'purchased' },
    holdout: { percent: 30, salt: 'v1' },
    steps: [
      { id: 'nudge', type: 'message', messages: text(edit ? 'still thinking? (edited)' : 'still thinking?') },
      { id: 'mark', type: 'action', tags: { add: ['nudged'] }, richMenu: { alias: 'cart-menu' } },
      {
        id: 'clicked',
        type: 'branch',
        wait: { after: { hours: 12 } },
        branches: [{ when: { event: 'clicked' }, next: 'thanks' }],
        default: 'coupon',
      },
      { id: 'thanks', type: 'message', messages: text('thanks for looking'), next: edit ? 'added' : 'hold' },
      { id: 'coupon', type: 'message', messages: text('a coupon'), next: edit ? 'added' : 'hold' },
      ...later,
      // Keeps everyone inside past the last purchase, so the conversions are all seen.
      { id: 'hold', type: 'message', wait: { after: { days: 20 } }, messages: text('bye') },
    ],
  };
}

const compile = (s: Scenario) => {
  const loaded = loadScenarioTexts([{ file: 'cart.json', text: JSON.stringify(s) }]);
  assert.deepEqual(
    loaded.issues.map((i) => i.message),
    [],
  );
  return loaded.scenarios.map((x) => x.compiled);
};

const userArb = fc.record({
  purchaseAfter: fc.option(fc.integer({ min: 1, max: 3 * DAY }), { nil: undefined }),
  clickAfter: fc.option(fc.integer({ min: 1, max: DAY }), { nil: undefined }),
});

test.prop(
  [
    fc.array(userArb, { minLength: 40, maxLength: 90 }),
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: 0, max: 20 }),
  ],
  {
    numRuns: Number(process.env.HOLDOUT_RUNS ?? 4),
    timeout: 240_000,
    interruptAfterTimeLimit: 600_000,
    endOnFailure: true,
  },
)('a held-out user is never sent a step, whatever the events, branches and edits', async (users, editAt, offset) => {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z') + offset * MINUTE);
  const server = await new LineServer({ now: clock.now }).start();
  servers.push(server);
  server.richMenuIds.add(MENU);
  server.aliases.set('cart-menu', MENU);
  const { store, db, drop } = await serverStore();
  try {
    const sender = new LineSender({
      channelAccessToken: server.token,
      baseURL: server.url,
      backoffMs: 5,
      timeoutMs: 500,
    });
    const from = clock.t;
    await runTick({ store, sender, scenarios: compile(cart(false)), now: clock.now });
    clock.advance(MINUTE);
    const start = clock.t;
    const pending: [string, string, number][] = [];
    for (const [i, u] of users.entries()) {
      pending.push([U(i + 1), 'cart_abandoned', start]);
      if (u.purchaseAfter !== undefined) pending.push([U(i + 1), 'purchased', start + u.purchaseAfter]);
      if (u.clickAfter !== undefined) pending.push([U(i + 1), 'clicked', start + u.clickAfter]);
    }
    // Ticks every 3 hours for 4 days, each after the events of its time arrived; the
    // scenario is edited after editAt ticks while users are inside.
    for (let n = 0; n < 32; n++) {
      for (const [id, type, at] of pending.filter((e) => e[2] <= clock.t && e[2] > clock.t - 3 * HOUR))
        await db.query(
          `insert into events (line_user_id, type, occurred_at) values ($1, $2, to_timestamp($3 / 1000.0))`,
          [id, type, at],
        );
      await runTick({ store, sender, scenarios: compile(cart(n >= editAt)), now: clock.now });
      clock.advance(3 * HOUR);
    }
    const ids = users.map((_, i) => U(i + 1));
    const held = ids.filter((id) => isHeldOut(id, 'cart', { percent: 30, salt: 'v1' }));
    assert.ok(held.length > 0 && held.length < ids.length, 'both groups');
    for (const id of held) {
      assert.deepEqual(server.inbox(id), [], 'a held-out user is sent nothing');
      assert.equal(server.linked.get(id), undefined, 'no rich menu linked');
    }
    const tagged = await db.query<{ line_user_id: string }>(
      `select line_user_id from line_users where attributes->'tags' ? 'nudged'`,
    );
    const heldRows = await db.query<{ line_user_id: string; n: string }>(
      `select line_user_id, count(*) as n from deliveries where kind = 'holdout' group by 1`,
    );
    assert.deepEqual(
      heldRows.map((r) => r.line_user_id).sort(),
      [...held].sort(),
      'each held-out user has held-out steps',
    );
    for (const id of ids.filter((x) => !held.includes(x)))
      assert.ok(server.inbox(id).length > 0, 'treated users are sent');
    // Tags are the user's record, not the treatment: the held out who never bought were tagged too.
    const bought = (id: string) => users[ids.indexOf(id)]!.purchaseAfter !== undefined;
    for (const id of held.filter((x) => !bought(x)))
      assert.ok(
        tagged.some((t) => t.line_user_id === id),
        'a held-out user is tagged',
      );

    const [report] = await store.holdoutReport({ from, to: clock.t, scenarioIds: ['cart'] });
    const treated = ids.filter((id) => !held.includes(id));
    assert.deepEqual(report, {
      scenarioId: 'cart',
      treated: treated.length,
      treatedConverted: treated.filter(bought).length,
      heldOut: held.length,
      heldOutConverted: held.filter(bought).length,
      moved: 0,
    });
  } finally {
    await drop();
  }
});
