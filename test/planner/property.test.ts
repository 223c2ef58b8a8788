// Properties of the planner over random scenarios, event histories and tick schedules.
import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileScenario } from '../../src/scenario/compile.js';
import type { EventFact } from '../../src/planner/types.js';
import { DAY, HOUR, MINUTE } from '../../src/time/zoned.js';
import { inWindow } from '../../src/planner/timing.js';
import { EVENTS, scenarioArb } from '../support/arbitraries.js';
import { every, simulate, user, type SimulatedDecision } from '../support/simulate.js';

const START = Date.parse('2026-11-02T03:00:00Z');
const HORIZON = 90 * DAY;

/** Offsets from the entry: many in the first hours (where late ticks matter), some later. */
const historyArb = fc.array(
  fc.record({
    type: fc.constantFrom(...EVENTS),
    offset: fc.oneof(fc.integer({ min: 1, max: 8 * HOUR }), fc.integer({ min: 1, max: 30 * DAY })),
    survey: fc.boolean(),
  }),
  { maxLength: 6 },
);
const eventsAt = (enteredAt: number, list: { type: string; offset: number; survey: boolean }[]): EventFact[] =>
  list.map((e, i) => ({
    id: `ev${i}`,
    type: e.type,
    occurredAt: enteredAt + e.offset,
    properties: e.survey ? { survey: 'x' } : {},
  }));

const userArb = fc.record({
  userId: fc.stringMatching(/^U[0-9a-f]{8}$/),
  attributes: fc.record({
    gender: fc.constantFrom('a', 'b', 'c'),
    region: fc.constantFrom('a', 'b'),
    tags: fc.constantFrom(['vip'], ['new'], []),
  }),
  answers: fc.record({ q1: fc.constantFrom('a', 'b') }),
});

const input = fc.record({
  scenario: scenarioArb({ maxSteps: 6 }),
  history: historyArb,
  who: userArb,
  enteredOffset: fc.integer({ min: 0, max: DAY }),
});

/** The decisions that matter to a user: which steps, which branches, at which moments. */
const trace = (decisions: SimulatedDecision[]) =>
  decisions.map(({ decision: d }) =>
    d.kind === 'send'
      ? `send ${d.stepId} @${d.dueAt}`
      : d.kind === 'branch'
        ? `branch ${d.stepId} → ${d.to} (${d.via})`
        : `${d.kind} ${d.stepId}`,
  );

test.prop([input], { numRuns: 150 })(
  'property (a): no step is decided twice for one enrollment',
  ({ scenario, history, who, enteredOffset }) => {
    const compiled = compileScenario(scenario);
    const enteredAt = START + enteredOffset;
    const r = simulate({
      compiled,
      user: user(who),
      events: eventsAt(enteredAt, history),
      enteredAt,
      ticks: every(enteredAt, 5 * MINUTE, enteredAt + HORIZON),
    });
    const ids = r.decisions.map((d) => d.decision.stepId);
    assert.equal(new Set(ids).size, ids.length, `decided twice: ${ids.join(', ')}`);
  },
);

test.prop(
  [
    input,
    fc.oneof(fc.integer({ min: 1, max: 8 * HOUR }), fc.integer({ min: 1, max: 20 * DAY })),
    fc.integer({ min: 5, max: 120 }),
  ],
  { numRuns: 150 },
)(
  "property (b): nothing is sent after an exit event that precedes the step's moment",
  ({ scenario, history, who, enteredOffset }, exitOffset, period) => {
    const compiled = compileScenario({ ...scenario, exit: [{ event: 'purchased' }] });
    const enteredAt = START + enteredOffset;
    const exitAt = enteredAt + exitOffset;
    const events = [
      ...eventsAt(enteredAt, history),
      { id: 'exit', type: 'purchased', occurredAt: exitAt, properties: {} },
    ];
    const r = simulate({
      compiled,
      user: user(who),
      events,
      enteredAt,
      ticks: every(enteredAt, period * MINUTE, enteredAt + HORIZON),
    });
    const firstExit = Math.min(
      ...events.filter((e) => e.type === 'purchased' && e.occurredAt > enteredAt).map((e) => e.occurredAt),
    );
    for (const { decision } of r.decisions) {
      if (decision.kind === 'send')
        assert.ok(
          decision.dueAt < firstExit,
          `${decision.stepId} due ${decision.dueAt} sent after the exit at ${firstExit}`,
        );
    }
    assert.ok(r.outcome?.kind !== 'wait', 'the enrollment ended');
  },
);

test.prop([input], { numRuns: 150 })(
  'property (c): the steps and branches do not depend on how time is cut into ticks',
  ({ scenario, history, who, enteredOffset }) => {
    const compiled = compileScenario(scenario);
    const enteredAt = START + enteredOffset;
    const events = eventsAt(enteredAt, history);
    const run = (ticks: Iterable<number>) => simulate({ compiled, user: user(who), events, enteredAt, ticks });
    const end = enteredAt + HORIZON;
    const fine = run(every(enteredAt, 5 * MINUTE, end));
    const hourly = run(every(enteredAt, HOUR, end));
    const lateStart = run([enteredAt, ...every(enteredAt + 6 * HOUR, 5 * MINUTE, end)]);
    assert.deepEqual(trace(hourly.decisions), trace(fine.decisions), 'hourly ticks');
    assert.deepEqual(trace(lateStart.decisions), trace(fine.decisions), 'a 6-hour delay');
    assert.deepEqual(hourly.outcome, fine.outcome);
    assert.deepEqual(lateStart.outcome, fine.outcome);
    // Only the send times differ: each send goes out no earlier than its moment, inside the window.
    for (const r of [fine, hourly, lateStart]) {
      for (const d of r.decisions) {
        if (d.decision.kind !== 'send') continue;
        assert.ok(d.tickAt >= d.decision.dueAt);
        assert.ok(
          inWindow(d.tickAt, scenario.sendWindow, scenario.timezone ?? 'Asia/Tokyo'),
          `sent at ${new Date(d.tickAt).toISOString()}, outside the window`,
        );
      }
    }
  },
);
