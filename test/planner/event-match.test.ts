// "The first event of type X in a window that matches a filter": the one helper that waits,
// exits, the goal and event conditions all use.
import { test } from 'vitest';
import { test as prop } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  conditionContext,
  countMatchingEvents,
  evaluate,
  firstMatchingEvent,
  matchesFilter,
  type EventQuery,
  type EventWindow,
} from '../../src/planner/conditions.js';
import type { EventFact } from '../../src/planner/types.js';

const T0 = Date.parse('2026-11-25T00:00:00Z');
const ev = (id: string, type: string, at: number, properties: Record<string, unknown> = {}): EventFact => ({
  id,
  type,
  occurredAt: T0 + at,
  properties,
});

const history = [
  ev('entry', 'cart_abandoned', 0),
  ev('p1', 'purchased', 0, { total: 500 }),
  ev('p2', 'purchased', 10, { total: 5000 }),
  ev('c1', 'clicked', 20),
  ev('p3', 'purchased', 30, { total: 8000 }),
];

test('the first event of the type whose properties match, inside the window', () => {
  const big: EventQuery = { event: 'purchased', where: { total: { gte: 1000 } } };
  assert.equal(firstMatchingEvent(history, big, { from: T0, through: T0 + 100 })?.id, 'p2');
  assert.equal(firstMatchingEvent(history, big, { from: T0 + 11, through: T0 + 100 })?.id, 'p3');
  assert.equal(firstMatchingEvent(history, big, { from: T0, through: T0 + 9 }), undefined, 'p2 is after the window');
  assert.equal(firstMatchingEvent(history, { event: 'clicked' }, { from: T0, through: T0 + 100 })?.id, 'c1');
  assert.equal(firstMatchingEvent(history, { event: 'follow' }, { from: T0, through: T0 + 100 }), undefined);
});

test('"after" leaves out an event at the window start (the entry itself); "from" counts it; "through" counts the end', () => {
  const any: EventQuery = { event: 'purchased' };
  assert.equal(firstMatchingEvent(history, any, { after: T0, through: T0 + 100 })?.id, 'p2');
  assert.equal(firstMatchingEvent(history, any, { from: T0, through: T0 + 100 })?.id, 'p1');
  assert.equal(firstMatchingEvent(history, any, { after: T0 + 10, through: T0 + 30 })?.id, 'p3');
});

test('counting stops at enough, and counts only what is in the window', () => {
  const any: EventQuery = { event: 'purchased' };
  assert.equal(countMatchingEvents(history, any, { from: T0, through: T0 + 100 }), 3);
  assert.equal(countMatchingEvents(history, any, { from: T0, through: T0 + 100 }, 2), 2);
  assert.equal(countMatchingEvents(history, any, { after: T0, through: T0 + 29 }), 1);
  assert.equal(countMatchingEvents([], any, { from: T0, through: T0 + 100 }), 0);
});

test('a branch condition built from the one context counts events since entry or since the previous step, up to the moment', () => {
  const user = { attributes: { region: 'kanto' }, answers: { q1: 'yes' } };
  const place = { trigger: { productName: 'x' }, enteredAt: T0, previousAt: T0 + 15 };
  const twice = { event: 'purchased', atLeast: 2 };
  assert.equal(evaluate(twice, conditionContext(user, place, T0 + 100, history)), true);
  assert.equal(evaluate({ ...twice, since: 'previous' }, conditionContext(user, place, T0 + 100, history)), false);
  assert.equal(evaluate(twice, conditionContext(user, place, T0 + 5, history)), false, 'p2 is after the moment');
  // No events given (routing): an event condition cannot hold; fields still read the user and trigger.
  const routing = conditionContext(user, place, T0 + 100);
  assert.equal(evaluate({ event: 'purchased' }, routing), false);
  assert.equal(evaluate({ field: 'user.region', eq: 'kanto' }, routing), true);
  assert.equal(evaluate({ field: 'trigger.productName', eq: 'x' }, routing), true);
  assert.equal(evaluate({ field: 'answers.q1', eq: 'yes' }, routing), true);
});

const TYPES = ['purchased', 'clicked', 'survey_answered'] as const;
const eventsArb = fc
  .array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      at: fc.integer({ min: 0, max: 50 }),
      total: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
    }),
    { maxLength: 12 },
  )
  .map((list) =>
    list
      .map((e, i) => ev(`e${i}`, e.type, e.at, e.total === undefined ? {} : { total: e.total }))
      .sort((a, b) => a.occurredAt - b.occurredAt),
  );
const queryArb: fc.Arbitrary<EventQuery> = fc.record(
  {
    event: fc.constantFrom(...TYPES),
    where: fc.constantFrom({ total: { gte: 5 } }, { total: 3 }, { total: { exists: false } }),
  },
  { requiredKeys: ['event'] },
);
const windowArb: fc.Arbitrary<EventWindow> = fc
  .tuple(fc.boolean(), fc.integer({ min: -5, max: 55 }), fc.integer({ min: -5, max: 55 }))
  .map(([strict, start, end]) =>
    strict ? { after: T0 + start, through: T0 + end } : { from: T0 + start, through: T0 + end },
  );

/** The same question asked the plain way: filter the whole list. */
const naive = (events: EventFact[], q: EventQuery, w: EventWindow) =>
  events.filter(
    (e) =>
      e.type === q.event &&
      ('after' in w ? e.occurredAt > w.after : e.occurredAt >= w.from) &&
      e.occurredAt <= w.through &&
      matchesFilter(e.properties, q.where),
  );

prop.prop([eventsArb, queryArb, windowArb, fc.integer({ min: 1, max: 4 })], { numRuns: 500 })(
  'the helper agrees with filtering the whole list: the first match, and the count up to enough',
  (events, query, window, enough) => {
    const all = naive(events, query, window);
    assert.equal(firstMatchingEvent(events, query, window), all[0]);
    assert.equal(countMatchingEvents(events, query, window), all.length);
    assert.equal(countMatchingEvents(events, query, window, enough), Math.min(enough, all.length));
  },
);
