// The report's SQL against a week counted by hand (test/report/fixture.ts), on PGlite and
// on PostgreSQL 15; the period checks; the Markdown summary (funnel charts, no user data).
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { pgliteStore, serverStore } from '../support/db.js';
import { CART, jst, U, WEEK, writeCartWeek } from './fixture.js';
import {
  checkPeriod,
  fetchPeriodReport,
  periodFromText,
  ReportInputError,
  type PeriodReport,
} from '../../src/report/period-report.js';
import { reportMarkdown } from '../../src/report/report-markdown.js';
import type { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';

const week = { ...WEEK, label: 'the week of 11-16' };

async function onBoth(run: (store: Store, db: SqlRpc) => Promise<void>): Promise<void> {
  const lite = await pgliteStore();
  try {
    await run(lite.store, lite.db);
  } finally {
    await lite.db.close();
  }
  const server = await serverStore();
  try {
    await run(server.store, server.db);
  } finally {
    await server.drop();
  }
}

function cartOf(r: PeriodReport) {
  const cart = r.scenarios.find((s) => s.id === 'cart');
  assert.ok(cart, 'the cart scenario is reported');
  return cart;
}

test('the report counts a hand-counted week: entered, goal reached, left by reason, waiting, sent, expired, failed, per day', async () => {
  await onBoth(async (store, db) => {
    await writeCartWeek(store, db);
    const r = await fetchPeriodReport(store, week);
    assert.deepEqual(
      r.scenarios.map((s) => s.id),
      ['cart', 'welcome'],
      'every registered scenario, in id order',
    );
    const cart = cartOf(r);
    // Entered in the week: users 1, 2, 3, 6, 8; of them 2 and 8 reached the goal.
    assert.equal(cart.entered, 5);
    assert.equal(cart.goalReached, 2);
    assert.equal(cart.conversionRate, 0.4);
    assert.equal(cart.conversions, 2, "goals reached in the week (user 4's was before it)");
    assert.equal(cart.finished, 1);
    assert.equal(cart.exited, 4);
    assert.equal(cart.waiting, 3, 'users 1, 5 and 7 are inside now, whenever they entered');
    // The failed exit's reason quoted a user id: only its kind is reported.
    assert.deepEqual(cart.exits, [
      { reason: 'exit: purchased', count: 1 },
      { reason: 'failed', count: 1 },
      { reason: 'goal: purchased', count: 1 },
      { reason: 'unfollowed', count: 1 },
    ]);
    const steps = Object.fromEntries(cart.steps.map((s) => [s.id, s]));
    assert.deepEqual(
      cart.steps.map((s) => s.id),
      ['reminder', 'wait-buy', 'coupon', 'last'],
      "the definition's order, non-message steps too",
    );
    assert.deepEqual(
      cart.steps.map((s) => [s.id, s.sent, s.expired, s.failed, s.exited, s.waiting, s.needsReview]),
      [
        // reminder: 3 on the 17th + 1 in the first minutes of the 16th (the 12th and the 23rd are outside)
        ['reminder', 4, 0, 0, 0, 2, 0],
        ['wait-buy', 0, 0, 0, 1, 0, 0],
        // coupon: 2 sent; 1 refused by LINE + 1 failed before sending; users 2 and 6 left here; 1 waits; 1 in a batch to review
        ['coupon', 2, 0, 2, 2, 1, 1],
        ['last', 0, 1, 0, 1, 0, 0],
      ],
    );
    assert.equal(steps.reminder!.units[0]!.unit, 'cart__reminder');
    assert.equal(steps.reminder!.units[0]!.daysSent, 2);
    // The funnel: message steps only, drop-off against the bar before (the first against entered).
    assert.deepEqual(
      cart.funnel.map((f) => [f.id, f.sent, f.dropOff]),
      [
        ['reminder', 4, 0.2],
        ['coupon', 2, 0.5],
        ['last', 0, 1],
      ],
    );
    assert.equal(cart.funnel[0]!.openRate.value, null);
    assert.equal(cart.funnel[0]!.openRate.note, 'not read from LINE yet');
    // Each day of the week in Tokyo, zero-filled.
    assert.deepEqual(
      cart.days.map((d) => `${d.day} ${d.sent}/${d.conversions}`),
      [
        '2026-11-16 1/0',
        '2026-11-17 3/0',
        '2026-11-18 2/1',
        '2026-11-19 0/1',
        '2026-11-20 0/0',
        '2026-11-21 0/0',
        '2026-11-22 0/0',
      ],
    );
    assert.deepEqual(r.totals, { entered: 5, sent: 6, goalReached: 2, conversions: 2, exited: 4 });
    const welcome = r.scenarios.find((s) => s.id === 'welcome')!;
    assert.deepEqual(
      [welcome.entered, welcome.funnel.length, welcome.funnel[0]!.sent, welcome.conversionRate],
      [0, 1, 0, null],
    );
  });
});

test("LINE's statistics per unit and day become open and click rates over the days LINE gave figures for", async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  // What to read back: each unit on each UTC+9 day it was sent in the week.
  const due = await store.unitStatsDue({ from: WEEK.from, to: WEEK.to, now: jst(25), limit: 10 });
  assert.deepEqual(due.due.map((d) => `${d.unit} ${d.day}`).sort(), [
    'cart__coupon 20261118',
    'cart__reminder 20261116',
    'cart__reminder 20261117',
  ]);
  await store.saveUnitStats(jst(25), [
    {
      unit: 'cart__reminder',
      day: '20261117',
      uniqueImpression: 2,
      uniqueClick: null,
      impression: 2,
      click: null,
      uniqueMediaPlayed: null,
    },
    {
      unit: 'cart__coupon',
      day: '20261118',
      uniqueImpression: null,
      uniqueClick: null,
      impression: null,
      click: null,
      uniqueMediaPlayed: null,
    },
  ]);
  const after = await store.unitStatsDue({ from: WEEK.from, to: WEEK.to, now: jst(25), limit: 10 });
  assert.deepEqual(
    after.due.map((d) => `${d.unit} ${d.day}`),
    ['cart__reminder 20261116'],
    'a day read after it settled is not read again',
  );
  // Read on the day itself: not settled, read again once 6 hours have passed.
  await store.saveUnitStats(jst(16, 12), [
    {
      unit: 'cart__reminder',
      day: '20261116',
      uniqueImpression: null,
      uniqueClick: null,
      impression: null,
      click: null,
      uniqueMediaPlayed: null,
    },
  ]);
  assert.deepEqual((await store.unitStatsDue({ from: WEEK.from, to: WEEK.to, now: jst(16, 13), limit: 10 })).due, []);
  assert.deepEqual(
    (await store.unitStatsDue({ from: WEEK.from, to: WEEK.to, now: jst(25), limit: 10 })).due.map((d) => d.day),
    ['20261116'],
  );
  const limited = await store.unitStatsDue({ from: WEEK.from, to: WEEK.to, now: jst(30), limit: 1 });
  assert.equal(limited.due.length, 1);

  const cart = cartOf(await fetchPeriodReport(store, week));
  const reminder = cart.funnel.find((f) => f.id === 'reminder')!;
  // The 17th: 3 sent, 2 opened; the 16th: LINE hid it (null).
  assert.deepEqual(
    [reminder.units[0]!.daysFetched, reminder.units[0]!.daysHidden, reminder.units[0]!.sentWithOpens],
    [2, 1, 3],
  );
  assert.equal(reminder.openRate.value, 2 / 3);
  assert.match(reminder.openRate.note ?? '', /over 3 of 4 sent/);
  assert.deepEqual(reminder.clickRate, { value: null, note: 'LINE hides counts under 20' });
  const coupon = cart.funnel.find((f) => f.id === 'coupon')!;
  assert.deepEqual(coupon.openRate, { value: null, note: 'LINE hides counts under 20' });
  await db.close();
});

test('the report pages through scenarios, and refuses a scenario id it does not know', async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  const paged = await fetchPeriodReport(store, week, { pageSize: 1 });
  assert.deepEqual(
    paged.scenarios.map((s) => s.id),
    ['cart', 'welcome'],
  );
  assert.equal(cartOf(paged).entered, 5);
  const one = await fetchPeriodReport(store, week, { scenarioId: 'welcome' });
  assert.deepEqual(
    one.scenarios.map((s) => s.id),
    ['welcome'],
  );
  await assert.rejects(fetchPeriodReport(store, week, { scenarioId: 'cartt' }), (e: Error) => {
    assert.ok(e instanceof ReportInputError);
    assert.equal(e.message, 'there is no scenario "cartt": the database knows cart, welcome');
    return true;
  });
  await db.close();
});

describe('the period', () => {
  const now = jst(25, 10);
  test('days are read in Asia/Tokyo; a day as "to" is the whole day', () => {
    const p = periodFromText('2026-11-16', '2026-11-22', now);
    assert.deepEqual([p.from, p.to], [jst(16), jst(23)]);
    assert.equal(p.label, '2026-11-16 → 2026-11-22');
    assert.equal(periodFromText(undefined, undefined, now).from, now - 7 * 86_400_000);
    assert.equal(periodFromText('2026-11-16T09:00:00Z', undefined, now).from, Date.parse('2026-11-16T09:00:00Z'));
  });
  test('from after to, a period LINE has no statistics for, a date that is not one: clear errors', () => {
    assert.throws(
      () => periodFromText('2026-11-20', '2026-11-10', now),
      /the period 2026-11-20 00:00 → 2026-11-11 00:00 \(Asia\/Tokyo\) is empty: from must be before to/,
    );
    assert.throws(
      () => periodFromText('2026-10-01', '2026-11-30', now),
      /spans 61 days: LINE gives statistics per unit for at most 31 \(a start day and 30 days after it, in UTC\+9\)/,
    );
    assert.throws(
      () => periodFromText('2026-11-31', undefined, now),
      /from "2026-11-31" is not a date: a day that the month does not have; write 2026-11-16/,
    );
    assert.doesNotThrow(() => periodFromText('2026-12-01', '2026-12-31', now), 'a start day and 30 days after it');
    assert.throws(() => checkPeriod(jst(1), jst(1), 'x'), ReportInputError);
  });
});

test('the summary shows a Mermaid funnel per scenario with a bar per message step, and no user id or message text', async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  const report = await fetchPeriodReport(store, week);
  const md = reportMarkdown([report], { now: jst(25), store: 'PGlite', notes: ['⚠️ a note'] });
  const charts = [...md.matchAll(/```mermaid\nxychart-beta\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const cartChart = charts.find((c) => c.includes('"cart: sent per step (entered 5)"'));
  assert.ok(cartChart, md);
  assert.match(cartChart, /x-axis \["reminder", "coupon", "last"\]/);
  assert.match(cartChart, /bar \[4, 2, 0\]/);
  assert.match(md, /\| reminder \| 4 \| — \| — \| 20\.0% \| 0 \| 0 \| 0 \| 2 \|/);
  assert.match(md, /goal \(purchased\) reached by 2 of them \(40\.0%\)/);
  assert.match(md, /sent \(bars\) and goals reached \(line\) per day/);
  assert.match(md, /⚠️ a note/);
  for (const n of [1, 2, 3, 6]) assert.ok(!md.includes(U(n)), 'no LINE user id');
  assert.doesNotMatch(md, /U[0-9a-f]{32}/);
  for (const step of CART.steps)
    for (const m of step.messages ?? []) assert.ok(!md.includes((m as { text: string }).text), 'no message text');
  await db.close();
});

test('sends are counted once, when a batch becomes sent, to the minute at the edges of a period (whole 15-minute buckets from report_sent)', async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  const hello = async (at: number, status: string, user: number) => {
    const [row] = await db.query<{ id: string }>(
      `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, status, created_at, updated_at)
       values ('welcome', 'hello', 'push', '[]', $1, 'welcome__hello', $2, $3, $3) returning id`,
      [[U(user)], status, new Date(at).toISOString()],
    );
    return row!.id;
  };
  const sentBetween = async (from: number, to: number) => {
    const r = await fetchPeriodReport(store, { from, to, label: 'x' }, { scenarioId: 'welcome' });
    return r.scenarios[0]!.funnel[0]!.sent;
  };
  // Pending when written, sent by an update (as a tick records LINE's answer).
  const early = await hello(jst(20, 10), 'pending', 20);
  const late = await hello(jst(20, 10), 'pending', 21);
  await db.query(`update outbox_batches set status = 'sent', sent_at = $2, updated_at = $2 where id = $1`, [
    early,
    new Date(jst(20, 10, 5)).toISOString(),
  ]);
  await db.query(`update outbox_batches set status = 'sent', sent_at = $2, updated_at = $2 where id = $1`, [
    late,
    new Date(jst(20, 10, 20)).toISOString(),
  ]);
  assert.equal(await sentBetween(jst(20, 10, 10), jst(20, 10, 40)), 1, 'from 10:10: the 10:20 send only');
  assert.equal(await sentBetween(jst(20, 10), jst(20, 10, 12)), 1, 'to 10:12: the 10:05 send only');
  assert.equal(await sentBetween(jst(20), jst(21)), 2);
  // Another update of a sent batch, or its deletion, does not change what was sent.
  await db.query(`update outbox_batches set updated_at = now() where id = $1`, [early]);
  await db.query(`delete from outbox_batches where id = $1`, [late]);
  assert.equal(await sentBetween(jst(20), jst(21)), 2);
  const [rolled] = await db.query<{ sent: number }>(
    `select sum(sent)::int as sent from report_sent where scenario_id = 'welcome'`,
  );
  assert.equal(rolled!.sent, 2);
  await db.close();
});
