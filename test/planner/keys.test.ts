// Enrollment keys: one enrollment per user and reservation, each on its own clock; a moved
// booking updates its own enrollment; a cancellation ends only its own.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { compileScenario, type CompiledScenario } from '../../src/scenario/compile.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { routeEvent, type EnrollmentSummary, type RouteResult } from '../../src/planner/route.js';
import { planEnrollment } from '../../src/planner/plan.js';
import { enrollmentKey } from '../../src/planner/keys.js';
import type { EnrollmentState, EventFact } from '../../src/planner/types.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { formatLocal, localToInstant, DAY, MINUTE } from '../../src/time/zoned.js';
import { user } from '../support/simulate.js';

const TZ = 'Asia/Tokyo';
const at = (y: number, mo: number, d: number, h: number, mi = 0) => localToInstant(TZ, y, mo, d, h, mi);
const samples = await loadScenarioDir('scenarios');
const reservation = samples.scenarios.find((s) => s.scenario.id === 'reservation')!.compiled.scenario;
/** The reservation sample with a key, under a given re-entry rule. */
const keyed = (reentry: Scenario['reentry']): CompiledScenario =>
  compileScenario({ ...reservation, reentry, entry: { ...reservation.entry, key: 'trigger.reservationId' } });
const booking = (id: string | number, day: number, hour: number, occurredAt: number): EventFact => ({
  id: `made-${id}@${occurredAt}`,
  type: 'reservation_made',
  occurredAt,
  properties: {
    reservationId: id,
    reservationAt: `2026-12-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`,
    reservationLabel: `12/${day} ${hour}:00`,
  },
});
const route = (compiled: CompiledScenario, event: EventFact, enrollments: EnrollmentSummary[]): RouteResult =>
  routeEvent({ event, user: user(), scenarios: [{ compiled, activatedAt: 0 }], enrollments });
const summary = (
  id: string,
  key: string | undefined,
  status: EnrollmentSummary['status'] = 'active',
  enteredAt = at(2026, 12, 1, 9),
): EnrollmentSummary => ({
  id,
  scenarioId: 'reservation',
  status,
  enteredAt,
  key,
});

test('the key is a trigger property: a non-empty string or a number, as text', () => {
  assert.equal(enrollmentKey('trigger.reservationId', { reservationId: 'R-1' }), 'R-1');
  assert.equal(enrollmentKey('trigger.reservationId', { reservationId: 42 }), '42');
  assert.equal(enrollmentKey('trigger.order.id', { order: { id: 'A' } }), 'A');
  for (const missing of [
    {},
    { reservationId: '' },
    { reservationId: null },
    { reservationId: { x: 1 } },
    { reservationId: 'x'.repeat(201) },
  ]) {
    assert.equal(enrollmentKey('trigger.reservationId', missing), undefined);
  }
  assert.equal(enrollmentKey(undefined, { reservationId: 'R-1' }), undefined, 'a scenario without a key');
});

test('two bookings: each enrolls on its own, whatever the re-entry rule', () => {
  for (const reentry of ['once', 'after_finish', 'restart'] as const) {
    const second = route(keyed(reentry), booking('B', 10, 15, at(2026, 12, 2, 9)), [summary('a', 'A')]);
    assert.deepEqual(
      second.enroll.map((e) => e.key),
      ['B'],
      reentry,
    );
    assert.deepEqual(second.exit, [], `${reentry}: booking A keeps its enrollment`);
    assert.deepEqual(second.update, []);
  }
  // Without a key the sample restarts: the first booking's reminder is lost (the issue).
  const unkeyed = route(
    compileScenario({ ...reservation, entry: { trigger: reservation.entry.trigger } }),
    booking('B', 10, 15, at(2026, 12, 2, 9)),
    [summary('a', undefined)],
  );
  assert.deepEqual(unkeyed.exit, [{ enrollmentId: 'a', reason: 'restarted by a new trigger' }]);
});

test('the same booking again (moved): updates its enrollment; with restart, starts it over', () => {
  const moved = booking('A', 6, 11, at(2026, 12, 2, 9));
  for (const reentry of ['once', 'after_finish'] as const) {
    const r = route(keyed(reentry), moved, [summary('a', 'A'), summary('b', 'B')]);
    assert.deepEqual(r.update, [{ enrollmentId: 'a', trigger: moved.properties }], reentry);
    assert.deepEqual([r.enroll, r.exit], [[], []]);
  }
  const restarted = route(keyed('restart'), moved, [summary('a', 'A'), summary('b', 'B')]);
  assert.deepEqual(restarted.exit, [{ enrollmentId: 'a', reason: 'restarted by a new trigger' }]);
  assert.deepEqual(
    restarted.enroll.map((e) => e.key),
    ['A'],
  );
  // Delivered late, an older trigger does not undo the newer one.
  const stale = route(keyed('once'), booking('A', 4, 15, at(2026, 12, 1, 8)), [summary('a', 'A')]);
  assert.deepEqual([stale.update, stale.enroll], [[], []]);
});

test('a booking whose enrollment ended: once ignores it, after_finish enrolls it again', () => {
  const again = booking('A', 20, 15, at(2026, 12, 15, 9));
  assert.deepEqual(route(keyed('once'), again, [summary('a', 'A', 'finished')]).enroll, []);
  assert.deepEqual(
    route(keyed('once'), again, [summary('b', 'B', 'finished')]).enroll.map((e) => e.key),
    ['A'],
    'another key ended: this one is new',
  );
  assert.deepEqual(
    route(keyed('after_finish'), again, [summary('a', 'A', 'finished')]).enroll.map((e) => e.key),
    ['A'],
  );
});

test('a booking without the key enrolls as without a key: one such enrollment per user', () => {
  const noId: EventFact = {
    ...booking('x', 10, 15, at(2026, 12, 2, 9)),
    properties: { reservationAt: '2026-12-10T15:00:00' },
  };
  const first = route(keyed('once'), noId, [summary('a', 'A')]);
  assert.deepEqual(
    first.enroll.map((e) => e.key),
    [undefined],
  );
  assert.deepEqual(route(keyed('once'), noId, [summary('a', 'A'), summary('n', undefined)]).enroll, []);
});

test('a cancellation ends its own booking only; one without the key ends every booking', () => {
  const cancel = (properties: Record<string, unknown>): EventFact => ({
    id: 'c',
    type: 'reservation_cancelled',
    occurredAt: at(2026, 12, 3, 9),
    properties,
  });
  const both = [summary('a', 'A'), summary('b', 'B')];
  assert.deepEqual(
    route(keyed('once'), cancel({ reservationId: 'A' }), both).exit.map((x) => x.enrollmentId),
    ['a'],
  );
  assert.deepEqual(
    route(keyed('once'), cancel({}), both).exit.map((x) => x.enrollmentId),
    ['a', 'b'],
  );
});

// ---- the planner: each booking on its own clock ----

/** Plans one enrollment at each tick, as the engine does; `updates` replace the trigger at a moment. */
function run(
  compiled: CompiledScenario,
  trigger: EventFact,
  events: EventFact[],
  ticks: number[],
  updates: { at: number; trigger: Record<string, unknown> }[] = [],
) {
  let state: EnrollmentState = {
    id: trigger.id,
    scenarioId: compiled.id,
    scenarioHash: compiled.hash,
    enteredAt: trigger.occurredAt,
    trigger: trigger.properties,
    stepId: compiled.first,
    previousAt: trigger.occurredAt,
    converted: false,
  };
  const log: string[] = [];
  let until = -Infinity;
  let converted: number | undefined;
  for (const now of ticks) {
    const update = updates.find((u) => u.at <= now && u.at > now - 5 * MINUTE);
    if (update) state = { ...state, trigger: update.trigger };
    // Woken by an event, as ingest wakes an enrollment.
    const arrived = events.some((e) => e.occurredAt <= now && e.occurredAt > now - 5 * MINUTE);
    if (now < until && !update && !arrived) continue;
    const plan = planEnrollment({
      scenario: { compiled, activatedAt: 0 },
      enrollment: state,
      user: user(),
      events: events.filter((e) => e.occurredAt <= now),
      now,
    });
    for (const d of plan.decisions)
      if (d.kind !== 'branch') log.push(`${d.kind} ${d.stepId}${d.kind === 'send' ? ` ${formatLocal(now, TZ)}` : ''}`);
    converted ??= plan.conversionAt;
    state = plan.state;
    if (plan.outcome.kind !== 'wait') {
      log.push(plan.outcome.kind === 'exit' ? `exit: ${plan.outcome.reason}` : 'finish');
      break;
    }
    until = plan.outcome.until;
  }
  return { log, converted };
}
const ticks = (from: number, days: number) =>
  Array.from({ length: (days * DAY) / (5 * MINUTE) }, (_, i) => from + i * 5 * MINUTE);

test('two bookings in one week: each gets its reminder the day before, on its own clock', () => {
  const compiled = keyed('restart');
  const a = booking('A', 4, 15, at(2026, 12, 1, 9));
  const b = booking('B', 6, 11, at(2026, 12, 2, 9));
  const events = [a, b];
  const first = run(compiled, a, events, ticks(a.occurredAt, 6));
  const second = run(compiled, b, events, ticks(b.occurredAt, 7));
  assert.deepEqual(first.log.slice(0, 3), [
    'send thanks 2026-12-01 09:00',
    'send reminder 2026-12-03 15:00',
    'send follow-up 2026-12-05 19:00',
  ]);
  assert.deepEqual(second.log.slice(0, 3), [
    'send thanks 2026-12-02 09:00',
    'send reminder 2026-12-05 11:00',
    'send follow-up 2026-12-07 19:00',
  ]);
  // B's booking is A's conversion (the next booking), not the other way round.
  assert.equal(first.converted, b.occurredAt);
  assert.equal(second.converted, undefined);
});

test('a moved booking re-times the reminder still ahead; the move is no conversion', () => {
  const compiled = keyed('once');
  const a = booking('A', 4, 15, at(2026, 12, 1, 9));
  const moved = booking('A', 8, 15, at(2026, 12, 2, 9));
  const r = run(compiled, a, [a, moved], ticks(a.occurredAt, 10), [
    { at: moved.occurredAt, trigger: moved.properties },
  ]);
  assert.deepEqual(r.log.slice(0, 3), [
    'send thanks 2026-12-01 09:00',
    'send reminder 2026-12-07 15:00',
    'send follow-up 2026-12-09 19:00',
  ]);
  assert.equal(r.converted, undefined, 'a booking moved is not a new booking');
});

test("a cancellation of the other booking does not stop this one's reminder", () => {
  const compiled = keyed('restart');
  const a = booking('A', 4, 15, at(2026, 12, 1, 9));
  const cancelB: EventFact = {
    id: 'c',
    type: 'reservation_cancelled',
    occurredAt: at(2026, 12, 2, 10),
    properties: { reservationId: 'B' },
  };
  const cancelA: EventFact = { ...cancelB, id: 'ca', properties: { reservationId: 'A' } };
  assert.deepEqual(run(compiled, a, [a, cancelB], ticks(a.occurredAt, 4)).log.slice(0, 2), [
    'send thanks 2026-12-01 09:00',
    'send reminder 2026-12-03 15:00',
  ]);
  assert.deepEqual(run(compiled, a, [a, cancelA], ticks(a.occurredAt, 4)).log, [
    'send thanks 2026-12-01 09:00',
    'exit: exit: reservation_cancelled',
  ]);
});

test('a wait step counts only the event of its own key', () => {
  const compiled = compileScenario({
    id: 'delivery',
    version: 1,
    timezone: TZ,
    entry: { trigger: { type: 'event', event: 'shipped' }, key: 'trigger.shipmentId' },
    steps: [
      {
        id: 'wait',
        type: 'wait',
        for: { event: 'delivered' },
        timeout: { days: 3 },
        next: 'thanks',
        onTimeout: 'late',
      },
      { id: 'thanks', type: 'message', next: 'end', messages: [{ type: 'text', text: 'delivered' }] },
      { id: 'late', type: 'message', messages: [{ type: 'text', text: 'late' }] },
    ],
  });
  const shipped: EventFact = {
    id: 's',
    type: 'shipped',
    occurredAt: at(2026, 12, 1, 9),
    properties: { shipmentId: 'S1' },
  };
  const other: EventFact = {
    id: 'd2',
    type: 'delivered',
    occurredAt: at(2026, 12, 2, 9),
    properties: { shipmentId: 'S2' },
  };
  const own: EventFact = { ...other, id: 'd1', properties: { shipmentId: 'S1' } };
  assert.deepEqual(run(compiled, shipped, [shipped, other], ticks(shipped.occurredAt, 4)).log, [
    'send late 2026-12-04 09:00',
    'finish',
  ]);
  assert.deepEqual(run(compiled, shipped, [shipped, own], ticks(shipped.occurredAt, 4)).log, [
    'send thanks 2026-12-02 09:00',
    'finish',
  ]);
});
