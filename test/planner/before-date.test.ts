// Steps counted back from a date of the trigger ("the day before the reservation"): they
// never go out at or after that date, whatever the booking time and the tick schedule.
import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileScenario } from '../../src/scenario/compile.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import type { Step } from '../../src/scenario/schema.js';
import { formatLocal, localToInstant, DAY, HOUR, MINUTE } from '../../src/time/zoned.js';
import { every, simulate, user } from '../support/simulate.js';

const TZ = 'Asia/Tokyo';
const samples = await loadScenarioDir('scenarios');
const reservation = samples.scenarios.find((s) => s.scenario.id === 'reservation')!.compiled;
const at = (y: number, mo: number, d: number, h: number, mi = 0) => localToInstant(TZ, y, mo, d, h, mi);
const hourly = (from: number, hours: number) => every(from, HOUR, from + hours * HOUR);
const trace = (r: ReturnType<typeof simulate>) =>
  r.decisions.map(
    ({ decision: d, tickAt }) => `${d.kind} ${d.stepId}${d.kind === 'send' ? ` ${formatLocal(tickAt, TZ)}` : ''}`,
  );

/** The common salon pattern: thanks at once, a reminder the day before at 10:00. */
const dayBefore10 = compileScenario({
  id: 'day-before',
  version: 1,
  timezone: TZ,
  entry: { trigger: { type: 'event', event: 'reservation_made' } },
  sendWindow: { start: '08:00', end: '21:00' },
  steps: [
    { id: 'thanks', type: 'message', messages: [{ type: 'text', text: 'ご予約ありがとうございます' }] },
    {
      id: 'reminder',
      type: 'message',
      wait: { before: { days: 1 }, from: 'trigger.reservationAt', at: '10:00' },
      messages: [{ type: 'text', text: '明日はご予約日です' }],
    },
  ],
});

test('booked at 08:30 for 09:00 the same day: the day-before reminder is not sent at 10:00, after the visit', () => {
  const booked = at(2026, 12, 4, 8, 30);
  const trigger = { reservationAt: '2026-12-04T09:00:00+09:00' };
  // Hourly ticks: 09:00 sends the thanks, 10:00 is past the appointment.
  const r = simulate({
    compiled: dayBefore10,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: hourly(at(2026, 12, 4, 9, 0), 48),
  });
  assert.deepEqual(trace(r), ['send thanks 2026-12-04 09:00', 'expire reminder']);
  const expired = r.decisions[1]!.decision;
  assert.ok(expired.kind === 'expire' && expired.reason.includes('before the date it counts back from'));
});

test('the reservation sample, booked at 08:30 for 09:00: thanks, and no "tomorrow" reminder at all', () => {
  const booked = at(2026, 12, 4, 8, 30);
  const trigger = { reservationAt: '2026-12-04T09:00:00+09:00' };
  const r = simulate({
    compiled: reservation,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: every(booked, 5 * MINUTE, booked + 3 * DAY),
  });
  assert.deepEqual(trace(r).slice(0, 3), [
    'send thanks 2026-12-04 08:30',
    'expire reminder',
    'send follow-up 2026-12-05 19:00',
  ]);
});

test('the reservation sample, booked the evening before a morning visit: the reminder goes out at once', () => {
  const booked = at(2026, 12, 3, 18, 0);
  const trigger = { reservationAt: '2026-12-04T10:00:00+09:00' };
  const r = simulate({
    compiled: reservation,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: every(booked, 5 * MINUTE, booked + 3 * DAY),
  });
  assert.deepEqual(trace(r).slice(0, 2), ['send thanks 2026-12-03 18:00', 'send reminder 2026-12-03 18:05']);
});

test('a 15:00 appointment: a late tick at 11:00 still sends the reminder; a tick at 15:00 does not', () => {
  const booked = at(2026, 12, 4, 8, 30);
  const trigger = { reservationAt: '2026-12-04T15:00:00+09:00' };
  // The schedule skipped 10:00: the reminder is late but the visit is hours away.
  const late = simulate({
    compiled: dayBefore10,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: [at(2026, 12, 4, 9, 0), ...hourly(at(2026, 12, 4, 11, 0), 24)],
  });
  assert.deepEqual(trace(late), ['send thanks 2026-12-04 09:00', 'send reminder 2026-12-04 11:00']);
  // The schedule was down from 09:00 until the visit itself.
  const atTheVisit = simulate({
    compiled: dayBefore10,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: [at(2026, 12, 4, 9, 0), ...hourly(at(2026, 12, 4, 15, 0), 24)],
  });
  assert.deepEqual(trace(atTheVisit), ['send thanks 2026-12-04 09:00', 'expire reminder']);
});

test('booked days ahead, the reminder goes out at its moment: the day before at 10:00', () => {
  const booked = at(2026, 12, 1, 12, 0);
  const trigger = { reservationAt: '2026-12-04T15:00:00+09:00' };
  const r = simulate({
    compiled: dayBefore10,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: every(booked, 5 * MINUTE, booked + 4 * DAY),
  });
  assert.deepEqual(trace(r), ['send thanks 2026-12-01 12:00', 'send reminder 2026-12-03 10:00']);
});

test('with expireAfter too, the earlier limit applies', () => {
  const compiled = compileScenario({
    ...dayBefore10.scenario,
    steps: [
      {
        id: 'reminder',
        type: 'message',
        wait: { before: { hours: 3 }, from: 'trigger.reservationAt' },
        expireAfter: { minutes: 30 },
        messages: [{ type: 'text', text: 'x' }],
      },
    ],
  });
  const booked = at(2026, 12, 1, 12, 0);
  const trigger = { reservationAt: '2026-12-04T15:00:00+09:00' }; // reminder at 12:00, expires 12:30
  const run = (tickAt: number) =>
    trace(simulate({ compiled, user: user(), events: [], enteredAt: booked, trigger, ticks: [booked, tickAt] }));
  assert.deepEqual(run(at(2026, 12, 4, 12, 30)), ['send reminder 2026-12-04 12:30']);
  assert.deepEqual(run(at(2026, 12, 4, 12, 35)), ['expire reminder'], 'expireAfter is the earlier limit here');
  const long = compileScenario({
    ...compiled.scenario,
    steps: [{ ...(compiled.scenario.steps[0] as Step), expireAfter: { days: 2 } }],
  });
  const late = (tickAt: number) =>
    trace(simulate({ compiled: long, user: user(), events: [], enteredAt: booked, trigger, ticks: [booked, tickAt] }));
  assert.deepEqual(late(at(2026, 12, 4, 14, 55)), ['send reminder 2026-12-04 14:55']);
  assert.deepEqual(late(at(2026, 12, 4, 15, 0)), ['expire reminder'], 'the date is the earlier limit here');
});

test('a tick outside the send window whose next opening is after the date expires the reminder at once', () => {
  const booked = at(2026, 12, 1, 12, 0);
  const trigger = { reservationAt: '2026-12-04T08:30:00+09:00' }; // before the 09:00 opening
  const compiled = compileScenario({ ...dayBefore10.scenario, sendWindow: { start: '09:00', end: '21:00' } });
  // The schedule was down from the booking until 22:00 the evening before: the next opening is 09:00, after the visit.
  const r = simulate({
    compiled,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: [booked, at(2026, 12, 3, 22, 0), at(2026, 12, 3, 22, 5)],
  });
  assert.deepEqual(
    r.decisions.map((d) => `${d.decision.kind} ${d.decision.stepId} ${formatLocal(d.tickAt, TZ)}`),
    ['send thanks 2026-12-01 12:00', 'expire reminder 2026-12-03 22:00'],
  );
  assert.deepEqual(r.outcome, { kind: 'finish' });
});

test("a reservation date without an offset is read in the scenario's zone, or the user's", () => {
  const booked = at(2026, 12, 1, 12, 0);
  const trigger = { reservationAt: '2026-12-04T15:00:00' };
  const tokyo = simulate({
    compiled: dayBefore10,
    user: user(),
    events: [],
    enteredAt: booked,
    trigger,
    ticks: every(booked, 5 * MINUTE, booked + 4 * DAY),
  });
  assert.deepEqual(trace(tokyo), ['send thanks 2026-12-01 12:00', 'send reminder 2026-12-03 10:00']);
  // A user in New York: the visit is 15:00 New York time, the reminder 10:00 New York time the day before.
  const ny = user({ attributes: { timezone: 'America/New_York' } });
  const r = simulate({
    compiled: dayBefore10,
    user: ny,
    events: [],
    enteredAt: booked,
    trigger,
    ticks: every(booked, 5 * MINUTE, booked + 5 * DAY),
  });
  const sent = r.decisions
    .filter((d) => d.decision.kind === 'send')
    .map((d) => formatLocal(d.tickAt, 'America/New_York'));
  assert.deepEqual(
    sent,
    ['2026-12-01 08:00', '2026-12-03 10:00'],
    'booked at 22:00 New York time: the thanks waits for the 08:00 opening',
  );
});

test('a reservation date that is not a date fails that enrollment with a reason naming the property', () => {
  const booked = at(2026, 12, 1, 12, 0);
  for (const bad of ['2026-12-04T15:00:00 JST', 1e20, '+275760-09-13T00:00:00Z', { y: 2026 }]) {
    const r = simulate({
      compiled: dayBefore10,
      user: user(),
      events: [],
      enteredAt: booked,
      trigger: { reservationAt: bad },
      ticks: every(booked, 5 * MINUTE, booked + DAY),
    });
    assert.deepEqual(trace(r), ['send thanks 2026-12-01 12:00', 'fail reminder']);
    const failed = r.decisions[1]!.decision;
    assert.ok(failed.kind === 'fail');
    assert.match(
      failed.reason,
      /^trigger\.reservationAt is not a date \(.+\): expected ISO 8601 like 2026-12-04T15:00:00\+09:00/,
    );
    assert.equal(r.outcome?.kind, 'exit');
  }
});

// ---- property: whatever the booking time and the schedule, never at or after the date ----

const windowArb = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    { start: '08:00', end: '21:00' },
    { start: '10:00', end: '18:00' },
    {
      start: '09:00',
      end: '20:00',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[],
    },
  ),
);
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 59))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const reminderArb = fc.record({
  before: fc.oneof(
    fc.record({ hours: fc.integer({ min: 1, max: 72 }) }),
    fc.record({ days: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ minutes: fc.integer({ min: 1, max: 600 }) }),
  ),
  at: fc.option(hhmm, { nil: undefined }),
  expireAfter: fc.option(fc.record({ hours: fc.integer({ min: 1, max: 48 }) }), { nil: undefined }),
  anyHour: fc.boolean(),
});
const scheduleArb = fc.record({
  period: fc.constantFrom(5, 15, 60, 180),
  firstDelay: fc.integer({ min: 0, max: 12 * 60 }),
  stall: fc.option(
    fc.record({ after: fc.integer({ min: 0, max: 72 * 60 }), minutes: fc.integer({ min: 1, max: 24 * 60 }) }),
    { nil: undefined },
  ),
});
const dateForm = fc.constantFrom('offset', 'utc', 'zoneless', 'epoch');

function writeDate(instant: number, form: string): string | number {
  if (form === 'epoch') return instant;
  if (form === 'utc') return new Date(instant).toISOString();
  const local = formatLocal(instant, TZ).replace(' ', 'T'); // minute precision: the dates below are on the minute
  return form === 'zoneless' ? `${local}:00` : `${local}:00+09:00`;
}

propTest.prop(
  [
    fc.array(reminderArb, { minLength: 1, maxLength: 3 }),
    windowArb,
    fc.integer({ min: -2 * 24 * 60, max: 6 * 24 * 60 }),
    scheduleArb,
    dateForm,
    fc.integer({ min: 0, max: 14 * 24 * 60 }),
  ],
  { numRuns: 300 },
)(
  'property: no step counted back from a date is sent at or after that date',
  (reminders, window, dateAfterBooking, schedule, form, bookedOffset) => {
    const booked = at(2026, 11, 2, 0, 0) + bookedOffset * MINUTE;
    const date = booked + dateAfterBooking * MINUTE;
    const steps: Step[] = [
      { id: 'thanks', type: 'message', messages: [{ type: 'text', text: 'thanks' }] },
      ...reminders.map((r, i): Step => ({
        id: `r${i}`,
        type: 'message',
        wait: { before: r.before, from: 'trigger.date', ...(r.at ? { at: r.at } : {}) },
        ...(r.expireAfter ? { expireAfter: r.expireAfter } : {}),
        ...(r.anyHour ? { sendWindow: null } : {}),
        messages: [{ type: 'text', text: `reminder ${i}` }],
      })),
      {
        id: 'after',
        type: 'message',
        wait: { after: { hours: 1 }, from: 'trigger.date' },
        messages: [{ type: 'text', text: 'after' }],
      },
    ];
    const compiled = compileScenario({
      id: 'p',
      version: 1,
      timezone: TZ,
      entry: { trigger: { type: 'event', event: 'reservation_made' } },
      ...(window ? { sendWindow: window } : {}),
      steps,
    });
    const start = booked + schedule.firstDelay * MINUTE;
    const stall = schedule.stall
      ? {
          from: start + schedule.stall.after * MINUTE,
          to: start + (schedule.stall.after + schedule.stall.minutes) * MINUTE,
        }
      : undefined;
    const ticks = [...every(start, schedule.period * MINUTE, Math.max(date, booked) + 8 * DAY)].filter(
      (t) => !stall || t < stall.from || t >= stall.to,
    );
    const r = simulate({
      compiled,
      user: user(),
      events: [],
      enteredAt: booked,
      trigger: { date: writeDate(date, form) },
      ticks,
    });
    for (const { decision, tickAt } of r.decisions) {
      if (decision.kind === 'send' && decision.stepId.startsWith('r')) {
        assert.ok(
          tickAt < date,
          `${decision.stepId} sent at ${formatLocal(tickAt, TZ)}, the date is ${formatLocal(date, TZ)}`,
        );
      }
    }
    assert.ok(
      r.decisions.some((d) => d.decision.stepId === 'after'),
      'the enrollment went on past its reminders',
    );
    assert.deepEqual(r.outcome, { kind: 'finish' });
  },
);
