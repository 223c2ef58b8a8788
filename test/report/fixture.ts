// A hand-counted week of one scenario, written straight into the engine's tables, for the
// report's SQL (test/report/report.test.ts) and its pictures (test/report/html.test.ts).
// Every figure the tests expect is counted by hand from the rows below.
import { localToInstant } from '../../src/time/zoned.js';
import type { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';

export const jst = (day: number, hour = 0, minute = 0) => localToInstant('Asia/Tokyo', 2026, 11, day, hour, minute);
export const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
/** The week: 2026-11-16 00:00 to 2026-11-23 00:00, Tokyo time. */
export const WEEK = { from: jst(16), to: jst(23) };

export const CART = {
  id: 'cart',
  version: 1,
  name: 'Cart abandoned',
  timezone: 'Asia/Tokyo',
  entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
  goal: { event: 'purchased', within: { days: 7 }, exit: true },
  steps: [
    { id: 'reminder', type: 'message', messages: [{ type: 'text', text: 'secret reminder text' }] },
    {
      id: 'wait-buy',
      type: 'wait',
      for: { event: 'purchased' },
      timeout: { days: 1 },
      next: 'end',
      onTimeout: 'coupon',
    },
    { id: 'coupon', type: 'message', messages: [{ type: 'text', text: 'secret coupon text' }] },
    { id: 'last', type: 'message', messages: [{ type: 'text', text: 'secret last text' }] },
  ],
};
export const WELCOME = {
  id: 'welcome',
  version: 1,
  name: 'Welcome',
  steps: [{ id: 'hello', type: 'message', messages: [] }],
};

const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function writeCartWeek(store: Store, db: SqlRpc): Promise<void> {
  await store.registerScenarios(jst(1), [
    { id: 'cart', hash: 'h-cart', version: 1, definition: CART },
    { id: 'welcome', hash: 'h-welcome', version: 1, definition: WELCOME },
  ]);
  const enroll = async (
    n: number,
    e: { status: string; step: string; entered: number; ended?: number; converted?: number; reason?: string },
  ) => {
    const rows = await db.query<{ id: string }>(
      `insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key, converted_at, exit_reason, ended_at)
       values ('cart', $1, $2, $3, $4, $4, case when $2 = 'active' then $4::timestamptz + interval '1 day' end, 'h-cart', 1, $5, $6, $7) returning id`,
      [U(n), e.status, e.step, at(e.entered), at(e.converted ?? null), e.reason ?? null, at(e.ended ?? null)],
    );
    return rows[0]!.id;
  };
  // Entered in the week: 1, 2, 3, 6, 8 (5). Reached the goal: 2 and 8.
  const e1 = await enroll(1, { status: 'active', step: 'coupon', entered: jst(17, 10) });
  await enroll(2, {
    status: 'exited',
    step: 'coupon',
    entered: jst(17, 10),
    ended: jst(18, 12),
    converted: jst(18, 12),
    reason: 'exit: purchased',
  });
  await enroll(3, { status: 'exited', step: 'last', entered: jst(17, 10), ended: jst(19, 9), reason: 'unfollowed' });
  await enroll(4, { status: 'finished', step: 'end', entered: jst(10, 10), ended: jst(17, 8), converted: jst(12, 9) });
  await enroll(5, { status: 'active', step: 'reminder', entered: jst(10, 10) });
  await enroll(6, {
    status: 'exited',
    step: 'coupon',
    entered: jst(18, 10),
    ended: jst(19, 10),
    reason: `failed: step "coupon": ${U(6)} has no "trigger.total"`,
  });
  await enroll(7, { status: 'active', step: 'reminder', entered: jst(24, 10) });
  await enroll(8, {
    status: 'exited',
    step: 'wait-buy',
    entered: jst(19, 10),
    ended: jst(19, 23, 30),
    converted: jst(19, 23, 30),
    reason: 'goal: purchased',
  });

  const batch = async (step: string, recipients: string[], status: string, when: number) => {
    await db.query(
      `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, status, sent_at, created_at, updated_at)
       values ('cart', $1, $2, '[{"type":"text","text":"secret"}]', $3, $4, $5, case when $5 = 'sent' then $6::timestamptz end, $6, $6)`,
      [
        step,
        recipients.length > 1 ? 'multicast' : 'push',
        recipients,
        `cart__${step.replace(/-/g, '_')}`,
        status,
        at(when),
      ],
    );
  };
  await batch('reminder', [U(1), U(2), U(3)], 'sent', jst(17, 13)); // 3 on the 17th
  await batch('coupon', [U(1)], 'sent', jst(18, 10));
  await batch('coupon', [U(3)], 'sent', jst(18, 10)); // coupon: 2 on the 18th
  await batch('reminder', [U(5)], 'sent', jst(12, 13)); // before the week
  await batch('coupon', [U(9)], 'failed', jst(19, 10)); // LINE refused it: 1 failed
  await batch('last', [U(1)], 'sent', jst(23, 0, 30)); // after the week
  await batch('reminder', [U(10)], 'sent', jst(16, 0, 10)); // first minutes of the week: the 16th in Tokyo
  await batch('coupon', [U(11)], 'needs_review', jst(20, 10));

  const decided = async (step: string, kind: 'expire' | 'fail', when: number) => {
    await db.query(
      `insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, reason, created_at)
       values ($1, 'cart', $2, $3, $4, $5, 'skipped', 'a reason', $5)`,
      [e1, step, U(1), kind, at(when)],
    );
  };
  await decided('last', 'expire', jst(20, 9)); // 1 expired
  await decided('coupon', 'fail', jst(18, 10, 5)); // 1 failed before sending
  await decided('last', 'expire', jst(14, 9)); // before the week
}
