// The planner's semantics, each as a user would notice it.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { compileScenario, type CompiledScenario } from '../../src/scenario/compile.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { planEnrollment } from '../../src/planner/plan.js';
import { chooseArm } from '../../src/planner/split.js';
import type { EnrollmentState, EventFact } from '../../src/planner/types.js';
import type { Scenario, SplitStep } from '../../src/scenario/schema.js';
import { formatLocal, localToInstant, HOUR, DAY, MINUTE } from '../../src/time/zoned.js';
import { every, simulate, user } from '../support/simulate.js';
import { baseScenario } from '../support/scenarios.js';

const TZ = 'Asia/Tokyo';
const samples = await loadScenarioDir('scenarios');
const sample = (id: string) => samples.scenarios.find((s) => s.scenario.id === id)!.compiled;
const at = (y: number, mo: number, d: number, h: number, mi = 0) => localToInstant(TZ, y, mo, d, h, mi);
const ev = (type: string, occurredAt: number, properties: Record<string, unknown> = {}): EventFact => ({
  id: `${type}@${occurredAt}`,
  type,
  occurredAt,
  properties,
});
const sends = (r: ReturnType<typeof simulate>, tz = TZ) =>
  r.decisions.filter((d) => d.decision.kind === 'send').map((d) => `${d.decision.stepId} ${formatLocal(d.tickAt, tz)}`);
const fiveMinutes = (from: number, days: number) => every(from, 5 * MINUTE, from + days * DAY);
const compile = (s: Partial<Scenario>) => compileScenario(baseScenario(s));

test('friend-add welcome series: the welcome at once, then day 1, day 5 and day 7 at 10:00 local, inside the window', () => {
  const entered = at(2026, 11, 23, 22, 30); // after 21:00: the welcome answers the follow at once, the rest waits
  const r = simulate({
    compiled: sample('friend-welcome'),
    user: user(),
    events: [],
    enteredAt: entered,
    ticks: fiveMinutes(entered, 10),
  });
  assert.deepEqual(sends(r), [
    'welcome 2026-11-23 22:30',
    'day1-campaign 2026-11-24 10:00',
    'day5-reviews 2026-11-28 10:00',
    `${chooseArm('U1', 'friend-welcome', sample('friend-welcome').steps.get('coupon-test')!.step as SplitStep).next} 2026-11-30 10:00`,
  ]);
  assert.deepEqual(r.outcome, { kind: 'finish' });
});

test('a welcome answers the follow at once, at any hour; the steps after it keep the send window', () => {
  const lateNight = at(2026, 11, 25, 23, 50);
  const welcome = simulate({
    compiled: sample('friend-welcome'),
    user: user(),
    events: [],
    enteredAt: lateNight,
    ticks: fiveMinutes(lateNight, 2),
  });
  assert.deepEqual(sends(welcome), ['welcome 2026-11-25 23:50', 'day1-campaign 2026-11-26 10:00']);
  // A seminar on Saturday: "thank you for coming today" goes out that day, the materials on Monday (weekdays only).
  const saturday = at(2026, 11, 28, 16, 0);
  const seminar = simulate({
    compiled: sample('offline-event-friend'),
    user: user(),
    events: [],
    enteredAt: saturday,
    ticks: fiveMinutes(saturday, 3),
  });
  assert.deepEqual(sends(seminar), ['thanks 2026-11-28 16:00', 'materials 2026-11-30 09:00']);
});

test('cart abandoned: reminder after an hour; a purchase before the coupon stops it', () => {
  const entered = at(2026, 11, 25, 12, 0);
  const trigger = { productName: '白いスニーカー', total: 5000 };
  const noPurchase = simulate({
    compiled: sample('cart-abandoned'),
    user: user(),
    events: [],
    enteredAt: entered,
    trigger,
    ticks: fiveMinutes(entered, 5),
  });
  assert.deepEqual(sends(noPurchase), ['reminder 2026-11-25 13:00', 'coupon 2026-11-28 10:00']);
  const first = noPurchase.decisions.find((d) => d.decision.kind === 'send')!.decision;
  assert.ok(
    first.kind === 'send' &&
      first.messages[0]!.type === 'text' &&
      first.messages[0].text.includes('「白いスニーカー」'),
  );
  const bought = simulate({
    compiled: sample('cart-abandoned'),
    user: user(),
    events: [ev('purchased', at(2026, 11, 26, 20, 0))],
    enteredAt: entered,
    trigger,
    ticks: fiveMinutes(entered, 5),
  });
  assert.deepEqual(sends(bought), ['reminder 2026-11-25 13:00']);
  assert.deepEqual(
    bought.outcome,
    { kind: 'exit', reason: 'goal: purchased' },
    'the purchase is the goal too: a conversion',
  );
});

test('a send window defers a step to the next opening and never drops it', () => {
  const compiled = compile({
    sendWindow: { start: '09:00', end: '21:00' },
    steps: [{ id: 'late', type: 'message', wait: { after: { hours: 3 } }, messages: [{ type: 'text', text: 'x' }] }],
  });
  const entered = at(2026, 11, 25, 20, 0); // due 23:00, outside
  const r = simulate({ compiled, user: user(), events: [], enteredAt: entered, ticks: fiveMinutes(entered, 2) });
  assert.deepEqual(sends(r), ['late 2026-11-26 09:00']);
});

test('expiry: a step that cannot go out in time is skipped and the enrollment moves on', () => {
  const compiled = compile({
    steps: [
      {
        id: 'flash',
        type: 'message',
        wait: { after: { hours: 1 } },
        expireAfter: { hours: 2 },
        messages: [{ type: 'text', text: 'flash sale' }],
      },
      { id: 'after', type: 'message', wait: { after: { days: 1 } }, messages: [{ type: 'text', text: 'next' }] },
    ],
  });
  const entered = at(2026, 11, 25, 9, 0);
  // The schedule stalls for 6 hours: the flash step (due 10:00, expires 12:00) is skipped.
  const ticks = [entered, at(2026, 11, 25, 15, 0), ...fiveMinutes(at(2026, 11, 25, 15, 5), 2)];
  const r = simulate({ compiled, user: user(), events: [], enteredAt: entered, ticks });
  assert.deepEqual(
    r.decisions.map((d) => `${d.decision.kind} ${d.decision.stepId}`),
    ['expire flash', 'send after'],
  );
  assert.deepEqual(sends(r), ['after 2026-11-26 10:00'], "the next step counts from the skipped step's moment");
});

test('a reminder counted back from a reservation is not sent after the reservation', () => {
  const entered = at(2026, 11, 25, 9, 0);
  const trigger = { reservationAt: new Date(at(2026, 11, 27, 15, 0)).toISOString() };
  const onTime = simulate({
    compiled: sample('reservation'),
    user: user(),
    events: [],
    enteredAt: entered,
    trigger,
    ticks: fiveMinutes(entered, 40),
  });
  assert.deepEqual(sends(onTime).slice(0, 3), [
    'thanks 2026-11-25 09:00',
    'reminder 2026-11-26 15:00',
    'follow-up 2026-11-28 19:00',
  ]);
  // No tick between the booking and the visit (the schedule was down): the reminder expires.
  const late = simulate({
    compiled: sample('reservation'),
    user: user(),
    events: [],
    enteredAt: entered,
    trigger,
    ticks: [entered, ...fiveMinutes(at(2026, 11, 27, 16, 0), 5)],
  });
  assert.deepEqual(
    late.decisions.slice(0, 3).map((d) => `${d.decision.kind} ${d.decision.stepId}`),
    ['send thanks', 'expire reminder', 'send follow-up'],
  );
});

test('catch-up: a late tick sends one step per tick unless the scenario says together', () => {
  const steps: Scenario['steps'] = [
    { id: 'a', type: 'message', wait: { after: { hours: 1 } }, messages: [{ type: 'text', text: 'a' }] },
    { id: 'b', type: 'message', wait: { after: { hours: 1 } }, messages: [{ type: 'text', text: 'b' }] },
    { id: 'c', type: 'message', wait: { after: { hours: 1 } }, messages: [{ type: 'text', text: 'c' }] },
  ];
  const entered = at(2026, 11, 25, 9, 0);
  const late = at(2026, 11, 25, 15, 0);
  const one = simulate({
    compiled: compile({ steps }),
    user: user(),
    events: [],
    enteredAt: entered,
    ticks: [entered, ...fiveMinutes(late, 1)],
  });
  assert.deepEqual(sends(one), ['a 2026-11-25 15:00', 'b 2026-11-25 15:05', 'c 2026-11-25 15:10']);
  const together = simulate({
    compiled: compile({ steps, catchUp: 'together' }),
    user: user(),
    events: [],
    enteredAt: entered,
    ticks: [entered, ...fiveMinutes(late, 1)],
  });
  assert.deepEqual(sends(together), ['a 2026-11-25 15:00', 'b 2026-11-25 15:00', 'c 2026-11-25 15:00']);
  const dueAts = together.decisions.map((d) => (d.decision.kind === 'send' ? formatLocal(d.decision.dueAt, TZ) : ''));
  assert.deepEqual(
    dueAts,
    ['2026-11-25 10:00', '2026-11-25 11:00', '2026-11-25 12:00'],
    'moments stay on the schedule',
  );
});

test("an exit event before a step's moment prevents it, even when the tick comes later", () => {
  const compiled = compile({ exit: [{ event: 'purchased' }] });
  const entered = at(2026, 11, 25, 9, 0);
  // The step is due 10:00; the purchase at 09:30 is only seen by the 11:00 tick.
  const r = simulate({
    compiled,
    user: user(),
    events: [ev('purchased', at(2026, 11, 25, 9, 30))],
    enteredAt: entered,
    ticks: [entered, at(2026, 11, 25, 11, 0)],
  });
  assert.deepEqual(sends(r), []);
  assert.deepEqual(r.outcome, { kind: 'exit', reason: 'exit: purchased' });
});

test('wait for an event: continue as soon as they answer, else remind after the timeout', () => {
  const compiled = sample('after-purchase');
  const entered = at(2026, 11, 2, 12, 0);
  const trigger = { productName: '美容液', category: 'skincare', orderId: 'A-1' };
  const answered = simulate({
    compiled,
    user: user({ answers: { satisfaction: 'no' } }),
    events: [ev('survey_answered', at(2026, 11, 10, 8, 0), { survey: 'after-purchase' })],
    enteredAt: entered,
    trigger,
    ticks: fiveMinutes(entered, 20),
  });
  assert.deepEqual(sends(answered), [
    'thanks 2026-11-02 12:10',
    'how-to-use 2026-11-05 19:00',
    'survey 2026-11-09 19:00',
    'support 2026-11-10 09:00',
  ]);
  const silent = simulate({
    compiled,
    user: user(),
    events: [],
    enteredAt: entered,
    trigger,
    ticks: fiveMinutes(entered, 20),
  });
  assert.deepEqual(sends(silent), [
    'thanks 2026-11-02 12:10',
    'how-to-use 2026-11-05 19:00',
    'survey 2026-11-09 19:00',
    'survey-reminder 2026-11-12 19:00',
    'recommend-skincare 2026-11-14 12:00',
  ]);
});

test('branches on attributes, answers, trigger properties and events up to the moment only', () => {
  const compiled = sample('survey-answer');
  const entered = at(2026, 11, 25, 12, 0);
  const route = (attributes: Record<string, unknown>, trigger: Record<string, unknown>) =>
    simulate({
      compiled,
      user: user({ attributes }),
      events: [],
      enteredAt: entered,
      trigger,
      ticks: fiveMinutes(entered, 1),
    }).decisions[0]!.decision;
  assert.deepEqual(route({}, { category: 'skincare' }), {
    kind: 'branch',
    stepId: 'by-category',
    to: 'skincare',
    via: 'skincare',
  });
  assert.deepEqual(route({}, { category: 'scalp' }), {
    kind: 'branch',
    stepId: 'by-category',
    to: 'haircare',
    via: 'haircare',
  });
  assert.deepEqual(route({ gender: 'female', ageBand: '20s' }, { category: 'x' }), {
    kind: 'branch',
    stepId: 'by-category',
    to: 'trend',
    via: 'young women',
  });
  assert.deepEqual(route({ gender: 'male', ageBand: '20s' }, {}), {
    kind: 'branch',
    stepId: 'by-category',
    to: 'general',
    via: 'default',
  });

  const seminar = sample('offline-event-friend');
  const entered2 = at(2026, 11, 2, 12, 0); // a Monday
  const went = (occurredAt: number) =>
    simulate({
      compiled: seminar,
      user: user(),
      events: [ev('seminar_attended', occurredAt)],
      enteredAt: entered2,
      ticks: fiveMinutes(entered2, 20),
    }).decisions.find((d) => d.decision.stepId === 'attended')!.decision;
  assert.equal((went(at(2026, 11, 10, 12, 0)) as { to: string }).to, 'advanced');
  assert.equal(
    (went(at(2026, 11, 16, 12, 0)) as { to: string }).to,
    'related-events',
    'an event after the branch moment does not count',
  );
});

test('the A/B split is deterministic per user and within 1% of its weights over 100,000 users', () => {
  const step: SplitStep = {
    id: 'ab',
    type: 'split',
    arms: [
      { name: 'a', weight: 70, next: 'end' },
      { name: 'b', weight: 20, next: 'end' },
      { name: 'c', weight: 10, next: 'end' },
    ],
  };
  const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
  for (let i = 0; i < 100_000; i++) counts[chooseArm(`U${(i * 2654435761) % 4294967296}`, 'welcome', step).name]!++;
  assert.ok(Math.abs(counts.a! / 1000 - 70) < 1, JSON.stringify(counts));
  assert.ok(Math.abs(counts.b! / 1000 - 20) < 1, JSON.stringify(counts));
  assert.ok(Math.abs(counts.c! / 1000 - 10) < 1, JSON.stringify(counts));
  for (let i = 0; i < 100; i++)
    assert.equal(chooseArm(`U${i}`, 'welcome', step).name, chooseArm(`U${i}`, 'welcome', step).name);
  const salted = { ...step, salt: 'round-2' };
  let moved = 0;
  for (let i = 0; i < 1000; i++)
    if (chooseArm(`U${i}`, 'welcome', step).name !== chooseArm(`U${i}`, 'welcome', salted).name) moved++;
  assert.ok(moved > 300, 'a new salt reshuffles users');
});

test('the goal is counted once, and ends the enrollment unless exit is false', () => {
  const entered = at(2026, 11, 25, 12, 0);
  const state: EnrollmentState = {
    id: 'e',
    scenarioId: 'cart-abandoned',
    scenarioHash: sample('cart-abandoned').hash,
    enteredAt: entered,
    trigger: {},
    stepId: 'reminder',
    previousAt: entered,
    converted: false,
  };
  const events = [ev('purchased', entered + 10 * MINUTE)];
  const plan = planEnrollment({
    scenario: { compiled: sample('cart-abandoned'), activatedAt: 0 },
    enrollment: state,
    user: user(),
    events,
    now: entered + HOUR,
  });
  assert.equal(plan.conversionAt, entered + 10 * MINUTE);
  assert.equal(plan.state.converted, true);
  assert.deepEqual(plan.outcome, { kind: 'exit', reason: 'goal: purchased' });
  const again = planEnrollment({
    scenario: { compiled: sample('cart-abandoned'), activatedAt: 0 },
    enrollment: plan.state,
    user: user(),
    events,
    now: entered + 2 * HOUR,
  });
  assert.equal(again.conversionAt, undefined, 'not counted twice');
  // friend-welcome counts purchases without ending the series.
  const welcome = simulate({
    compiled: sample('friend-welcome'),
    user: user(),
    events: [ev('purchased', at(2026, 11, 26, 12, 0))],
    enteredAt: at(2026, 11, 25, 12, 0),
    ticks: fiveMinutes(at(2026, 11, 25, 12, 0), 10),
  });
  assert.equal(sends(welcome).length, 4);
});

test('an unfollowed user gets nothing more', () => {
  const entered = at(2026, 11, 25, 12, 0);
  const r = simulate({
    compiled: sample('friend-welcome'),
    user: user({ following: false }),
    events: [],
    enteredAt: entered,
    ticks: fiveMinutes(entered, 10),
  });
  assert.deepEqual(sends(r), []);
  assert.deepEqual(r.outcome, { kind: 'exit', reason: 'unfollowed' });
});

test('a user\'s own time zone puts "at 10:00" at 10:00 their time', () => {
  const entered = Date.parse('2026-11-25T12:00:00Z');
  const r = simulate({
    compiled: sample('friend-welcome'),
    user: user({ attributes: { timezone: 'America/New_York' } }),
    events: [],
    enteredAt: entered,
    ticks: fiveMinutes(entered, 3),
  });
  assert.deepEqual(sends(r, 'America/New_York').slice(0, 2), [
    'welcome 2026-11-25 07:00',
    'day1-campaign 2026-11-26 10:00',
  ]);
});

test('"at 10:00" across a DST change stays at 10:00 local', () => {
  const compiled = compile({
    timezone: 'America/New_York',
    steps: [
      { id: 'a', type: 'message', wait: { after: { days: 1 }, at: '10:00' }, messages: [{ type: 'text', text: 'x' }] },
      { id: 'b', type: 'message', wait: { after: { days: 1 }, at: '10:00' }, messages: [{ type: 'text', text: 'y' }] },
    ],
  });
  const entered = localToInstant('America/New_York', 2026, 3, 7, 12, 0);
  const r = simulate({
    compiled,
    user: user(),
    events: [],
    enteredAt: entered,
    ticks: every(entered, MINUTE, entered + 3 * DAY),
  });
  assert.deepEqual(sends(r, 'America/New_York'), ['a 2026-03-08 10:00', 'b 2026-03-09 10:00']);
});

test('placeholders: fallbacks fill missing values; without one the step fails with the reason', () => {
  const compiled = compile({
    steps: [
      {
        id: 'named',
        type: 'message',
        fallbacks: { 'user.displayName': 'お客様' },
        messages: [{ type: 'text', text: '{{user.displayName}}さん、{{trigger.productName|商品}}をお忘れなく' }],
      },
      { id: 'strict', type: 'message', messages: [{ type: 'text', text: 'code: {{trigger.couponCode}}' }] },
      { id: 'last', type: 'message', messages: [{ type: 'text', text: 'bye' }] },
    ],
    catchUp: 'together',
  });
  const entered = at(2026, 11, 25, 12, 0);
  const r = simulate({ compiled, user: user(), events: [], enteredAt: entered, ticks: [entered] });
  const [named, strict, last] = r.decisions.map((d) => d.decision);
  assert.ok(named?.kind === 'send' && named.messages[0]!.type === 'text');
  assert.equal((named.messages[0] as { text: string }).text, 'お客様さん、商品をお忘れなく');
  assert.equal(named.uniform, false);
  assert.deepEqual(strict, {
    kind: 'fail',
    stepId: 'strict',
    reason: 'no value for trigger.couponCode and no fallback: add one, e.g. {{trigger.couponCode|…}}',
  });
  assert.equal(last?.kind, 'send', 'the enrollment moves on');
  const long = compile({
    steps: [{ id: 'a', type: 'message', messages: [{ type: 'text', text: 'x'.repeat(4990) + '{{trigger.name}}' }] }],
  });
  const over = simulate({
    compiled: long,
    user: user(),
    events: [],
    enteredAt: entered,
    trigger: { name: 'y'.repeat(20) },
    ticks: [entered],
  });
  assert.equal(over.decisions[0]!.decision.kind, 'fail');
  assert.match((over.decisions[0]!.decision as { reason: string }).reason, /at most 5000 characters/);
});

test('a step due before the scenario was switched on expires: no storm of past-due messages', () => {
  const entered = at(2026, 11, 1, 12, 0);
  const activatedAt = at(2026, 11, 25, 12, 0); // backfilled enrollment from weeks ago
  const r = simulate({
    compiled: sample('friend-welcome'),
    user: user(),
    events: [],
    enteredAt: entered,
    activatedAt,
    ticks: fiveMinutes(activatedAt, 10),
  });
  assert.deepEqual(sends(r), []);
  assert.deepEqual(
    r.decisions.filter((d) => d.decision.kind === 'expire').map((d) => d.decision.stepId),
    [
      'welcome',
      'day1-campaign',
      'day5-reviews',
      chooseArm('U1', 'friend-welcome', sample('friend-welcome').steps.get('coupon-test')!.step as SplitStep).next,
    ],
  );
});

test('edits: a retimed step applies to those who have not reached it; a removed step continues or ends', () => {
  const v1 = compile({});
  const entered = at(2026, 11, 25, 12, 0);
  const state: EnrollmentState = {
    id: 'e',
    scenarioId: v1.id,
    scenarioHash: v1.hash,
    enteredAt: entered,
    trigger: {},
    stepId: 'second',
    previousAt: entered + HOUR,
    converted: false,
  };
  const retimed = compile({
    steps: [v1.scenario.steps[0]!, { ...v1.scenario.steps[1]!, wait: { after: { days: 3 }, at: '10:00' } }],
  });
  const p1 = planEnrollment({
    scenario: { compiled: retimed, activatedAt: 0 },
    enrollment: state,
    user: user(),
    events: [],
    now: entered + 2 * HOUR,
  });
  assert.equal(p1.outcome.kind === 'wait' && formatLocal(p1.outcome.until, TZ), '2026-11-28 10:00');

  const v2: CompiledScenario = compile({
    steps: [v1.scenario.steps[0]!, { id: 'third', type: 'message', messages: [{ type: 'text', text: '3' }] }],
  });
  const withNext = compile({
    steps: [
      v1.scenario.steps[0]!,
      v1.scenario.steps[1]!,
      { id: 'third', type: 'message', messages: [{ type: 'text', text: '3' }] },
    ],
  });
  const removed = compile({ steps: [withNext.scenario.steps[0]!, withNext.scenario.steps[2]!] });
  const atSecond = { ...state, scenarioHash: withNext.hash };
  const cont = planEnrollment({
    scenario: { compiled: removed, activatedAt: 0, previous: new Map([[withNext.hash, withNext]]) },
    enrollment: atSecond,
    user: user(),
    events: [],
    now: entered + 2 * HOUR,
  });
  assert.equal(cont.decisions[0]?.stepId, 'third', 'continues at the step that followed the removed one');
  const ended = planEnrollment({
    scenario: { compiled: compileScenario({ ...removed.scenario, onStepRemoved: 'end' }), activatedAt: 0 },
    enrollment: atSecond,
    user: user(),
    events: [],
    now: entered + 2 * HOUR,
  });
  assert.deepEqual(ended.outcome, { kind: 'exit', reason: 'step "second" was removed from the scenario' });
  assert.ok(v2.hash !== v1.hash);
});

test('a paused scenario sends nothing and waits', () => {
  const entered = at(2026, 11, 25, 12, 0);
  const compiled = compileScenario({ ...sample('friend-welcome').scenario, status: 'paused' });
  const r = simulate({ compiled, user: user(), events: [], enteredAt: entered, ticks: fiveMinutes(entered, 10) });
  assert.deepEqual(sends(r), []);
  assert.deepEqual(r.outcome, { kind: 'wait', until: Infinity });
});

test('a trigger without the date a step counts from fails that enrollment with the reason', () => {
  const entered = at(2026, 11, 25, 12, 0);
  const r = simulate({
    compiled: sample('reservation'),
    user: user(),
    events: [],
    enteredAt: entered,
    trigger: {},
    ticks: fiveMinutes(entered, 1),
  });
  assert.deepEqual(r.outcome, { kind: 'exit', reason: 'step "reminder": the trigger has no date in "reservationAt"' });
});

test('a tick late past the window closing does not send out of hours: it waits for the next opening', () => {
  const compiled = compile({
    sendWindow: { start: '09:00', end: '21:00' },
    steps: [{ id: 'evening', type: 'message', wait: { after: { hours: 8 } }, messages: [{ type: 'text', text: 'x' }] }],
  });
  const entered = at(2026, 11, 25, 12, 0); // due 20:00, inside the window
  const r = simulate({
    compiled,
    user: user(),
    events: [],
    enteredAt: entered,
    ticks: [entered, at(2026, 11, 25, 23, 0), ...fiveMinutes(at(2026, 11, 26, 0, 0), 1)],
  });
  assert.deepEqual(sends(r), ['evening 2026-11-26 09:00']);
  const sent = r.decisions[0]!.decision;
  assert.equal(
    sent.kind === 'send' && formatLocal(sent.dueAt, TZ),
    '2026-11-25 20:00',
    'the schedule keeps its moment',
  );
});
