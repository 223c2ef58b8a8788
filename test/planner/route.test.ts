// What an event does to a user's enrollments.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { routeEvent, type EnrollmentSummary, type RoutingScenario } from '../../src/planner/route.js';
import type { EventFact } from '../../src/planner/types.js';
import { user } from '../support/simulate.js';

const samples = await loadScenarioDir('scenarios');
const T0 = Date.parse('2026-11-25T00:00:00Z');
const all: RoutingScenario[] = samples.scenarios.map((s) => ({ compiled: s.compiled, activatedAt: T0 }));
const only = (...ids: string[]) => all.filter((s) => ids.includes(s.compiled.id));
const ev = (type: string, properties: Record<string, unknown> = {}, occurredAt = T0 + 1000): EventFact => ({
  id: 'e',
  type,
  occurredAt,
  properties,
});
const enrolled = (r: ReturnType<typeof routeEvent>) => r.enroll.map((e) => e.scenarioId).sort();

test('a plain follow enrolls into the welcome series only; a route adds the route scenarios', () => {
  assert.deepEqual(enrolled(routeEvent({ event: ev('follow'), user: user(), scenarios: all, enrollments: [] })), [
    'friend-welcome',
  ]);
  assert.deepEqual(
    enrolled(
      routeEvent({ event: ev('follow', { route: 'ad-instagram' }), user: user(), scenarios: all, enrollments: [] }),
    ),
    ['friend-from-ad', 'friend-welcome'],
  );
  assert.deepEqual(
    enrolled(
      routeEvent({ event: ev('follow', { route: 'qr-seminar' }), user: user(), scenarios: all, enrollments: [] }),
    ),
    ['friend-welcome', 'offline-event-friend'],
  );
});

test('an unblock re-follow enrolls only where includeUnblocked says so', () => {
  assert.deepEqual(
    enrolled(
      routeEvent({
        event: ev('follow', { route: 'qr-seminar', unblocked: true }),
        user: user(),
        scenarios: all,
        enrollments: [],
      }),
    ),
    ['offline-event-friend'],
  );
});

test('the audience filter keeps existing customers out of the ad scenario', () => {
  assert.deepEqual(
    enrolled(
      routeEvent({
        event: ev('follow', { route: 'ad-line' }),
        user: user({ attributes: { tags: ['customer'] } }),
        scenarios: only('friend-from-ad'),
        enrollments: [],
      }),
    ),
    [],
  );
});

test('event triggers check property filters', () => {
  assert.deepEqual(
    enrolled(
      routeEvent({ event: ev('cart_abandoned', { total: 500 }), user: user(), scenarios: all, enrollments: [] }),
    ),
    [],
  );
  assert.deepEqual(
    enrolled(
      routeEvent({ event: ev('cart_abandoned', { total: '1500' }), user: user(), scenarios: all, enrollments: [] }),
    ),
    ['cart-abandoned'],
  );
});

test('list imports and attribute changes enroll', () => {
  assert.deepEqual(
    enrolled(
      routeEvent({ event: ev('list_added', { list: 'vip-2026' }), user: user(), scenarios: all, enrollments: [] }),
    ),
    ['vip-list'],
  );
  const linked = user({ attributes: { linked: true, region: 'tokyo' } });
  assert.deepEqual(
    enrolled(
      routeEvent({ event: ev('account_linked'), user: linked, scenarios: only('linked-members'), enrollments: [] }),
    ),
    ['linked-members'],
  );
  assert.deepEqual(
    enrolled(
      routeEvent({
        event: ev('account_linked'),
        user: user({ attributes: { linked: true, region: 'osaka' } }),
        scenarios: only('linked-members'),
        enrollments: [],
      }),
    ),
    [],
  );
});

test('re-entry: once never again, after_finish only when the last ended, restart ends the old one', () => {
  const prior = (scenarioId: string, status: EnrollmentSummary['status']): EnrollmentSummary[] => [
    { id: 'old', scenarioId, status, enteredAt: T0 - 1000 },
  ];
  assert.deepEqual(
    enrolled(
      routeEvent({
        event: ev('follow'),
        user: user(),
        scenarios: only('friend-welcome'),
        enrollments: prior('friend-welcome', 'finished'),
      }),
    ),
    [],
  );
  const survey = ev('survey_answered', { survey: 'interests' });
  assert.deepEqual(
    enrolled(
      routeEvent({
        event: survey,
        user: user(),
        scenarios: only('survey-answer'),
        enrollments: prior('survey-answer', 'active'),
      }),
    ),
    [],
  );
  assert.deepEqual(
    enrolled(
      routeEvent({
        event: survey,
        user: user(),
        scenarios: only('survey-answer'),
        enrollments: prior('survey-answer', 'finished'),
      }),
    ),
    ['survey-answer'],
  );
  const restart = routeEvent({
    event: ev('cart_abandoned', { total: 2000 }),
    user: user(),
    scenarios: only('cart-abandoned'),
    enrollments: prior('cart-abandoned', 'active'),
  });
  assert.deepEqual(enrolled(restart), ['cart-abandoned']);
  assert.deepEqual(restart.exit, [{ enrollmentId: 'old', reason: 'restarted by a new trigger' }]);
});

test('exit events end enrollments; unfollow ends them all; awaited events wake them', () => {
  const active: EnrollmentSummary[] = [
    { id: 'cart', scenarioId: 'cart-abandoned', status: 'active', enteredAt: T0 - 1000 },
    { id: 'fav', scenarioId: 'favorite-added', status: 'active', enteredAt: T0 - 1000, waitingFor: 'price_dropped' },
    { id: 'welcome', scenarioId: 'friend-welcome', status: 'active', enteredAt: T0 - 1000 },
  ];
  const bought = routeEvent({ event: ev('purchased'), user: user(), scenarios: all, enrollments: active });
  assert.deepEqual(bought.exit.map((x) => x.enrollmentId).sort(), ['cart', 'fav']);
  assert.deepEqual(bought.wake, ['welcome'], 'the welcome goal is counted by the planner');
  assert.deepEqual(enrolled(bought), ['after-purchase']);
  assert.deepEqual(routeEvent({ event: ev('price_dropped'), user: user(), scenarios: all, enrollments: active }).wake, [
    'fav',
  ]);
  const gone = routeEvent({
    event: ev('unfollow'),
    user: user({ following: false }),
    scenarios: all,
    enrollments: active,
  });
  assert.deepEqual(
    gone.exit.map((x) => x.reason),
    ['unfollowed', 'unfollowed', 'unfollowed'],
  );
  assert.deepEqual(gone.enroll, []);
});

test('a new scenario enrolls from events after it first ran, unless it declares a backfill start', () => {
  const before = ev('follow', {}, T0 - 60_000);
  assert.deepEqual(
    enrolled(routeEvent({ event: before, user: user(), scenarios: only('friend-welcome'), enrollments: [] })),
    [],
  );
  const backfilled: RoutingScenario = {
    ...only('friend-welcome')[0]!,
    compiled: {
      ...only('friend-welcome')[0]!.compiled,
      scenario: {
        ...only('friend-welcome')[0]!.compiled.scenario,
        activation: { backfillFrom: '2026-11-01T00:00:00Z' },
      },
    },
  };
  assert.deepEqual(enrolled(routeEvent({ event: before, user: user(), scenarios: [backfilled], enrollments: [] })), [
    'friend-welcome',
  ]);
});
