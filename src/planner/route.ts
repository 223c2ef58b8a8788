// What one event does to a user's enrollments: which scenarios it enrolls the user into,
// which enrollments it ends, and which waiting enrollments it wakes. Pure.
import type { CompiledScenario } from '../scenario/compile.js';
import type { Trigger } from '../scenario/schema.js';
import { evaluate, matchesFilter } from './conditions.js';
import { durationMs } from './timing.js';
import { concernsKey, enrollmentKey } from './keys.js';
import type { EnrollmentStatus, EventFact, UserFacts } from './types.js';

export const UNFOLLOW = 'unfollow';
export const FOLLOW = 'follow';
export const LIST_ADDED = 'list_added';
/**
 * Events after which an audience trigger looks at the user's attributes again: also the
 * changes an action step made (recorded after the commit applied them, so the user's
 * attributes read with the event hold them).
 */
export const ATTRIBUTE_EVENTS = new Set([
  'profile_updated',
  'account_linked',
  FOLLOW,
  'tag_added',
  'tag_removed',
  'attribute_set',
  'attribute_cleared',
]);

export interface RoutingScenario {
  compiled: CompiledScenario;
  /** When the scenario first ran: earlier events do not enroll, unless activation.backfillFrom says so. */
  activatedAt: number;
}

export interface EnrollmentSummary {
  id: string;
  scenarioId: string;
  status: EnrollmentStatus;
  enteredAt: number;
  /** The event a wait step of this enrollment waits for. */
  waitingFor?: string | undefined;
  /** Its entry.key value (undefined: none). */
  key?: string | undefined;
}

export interface RouteInput {
  event: EventFact;
  user: UserFacts;
  scenarios: readonly RoutingScenario[];
  /** Every enrollment of this user, any status (re-entry rules need the ended ones). */
  enrollments: readonly EnrollmentSummary[];
}

export interface RouteResult {
  /** key: the entry.key value of the new enrollment (undefined: none). */
  enroll: { scenarioId: string; enteredAt: number; trigger: Record<string, unknown>; key?: string | undefined }[];
  /** convertedAt: the exit's event is also the scenario's goal (a purchase that ends a cart scenario). */
  exit: { enrollmentId: string; reason: string; convertedAt?: number | undefined }[];
  /** Enrollments to plan again now (a wait ended, a goal may be reached). */
  wake: string[];
  /**
   * Active enrollments whose key came again in a later trigger: their trigger becomes this
   * event's properties (the steps ahead are re-timed), and they are planned again now.
   */
  update: { enrollmentId: string; trigger: Record<string, unknown> }[];
}

export function triggerMatches(trigger: Trigger, event: EventFact, user: UserFacts): boolean {
  switch (trigger.type) {
    case 'follow': {
      if (event.type !== FOLLOW) return false;
      if (event.properties.unblocked === true && !trigger.includeUnblocked) return false;
      if (trigger.route === undefined) return true;
      const routes = Array.isArray(trigger.route) ? trigger.route : [trigger.route];
      const route = event.properties.route;
      return (typeof route === 'string' || typeof route === 'number') && routes.includes(String(route));
    }
    case 'event':
      return event.type === trigger.event && matchesFilter(event.properties, trigger.where);
    case 'list':
      return event.type === LIST_ADDED && event.properties.list === trigger.list;
    case 'audience':
      return (
        ATTRIBUTE_EVENTS.has(event.type) &&
        evaluate(trigger.condition, {
          attributes: user.attributes,
          answers: user.answers,
          trigger: {},
          events: [],
          enteredAt: event.occurredAt,
          previousAt: event.occurredAt,
          moment: event.occurredAt,
        })
      );
  }
}

export function routeEvent({ event, user, scenarios, enrollments }: RouteInput): RouteResult {
  const result: RouteResult = { enroll: [], exit: [], wake: [], update: [] };
  const active = enrollments.filter((e) => e.status === 'active');
  if (event.type === UNFOLLOW) {
    for (const e of active)
      if (e.enteredAt <= event.occurredAt) result.exit.push({ enrollmentId: e.id, reason: 'unfollowed' });
    return result;
  }
  for (const { compiled, activatedAt } of scenarios) {
    const scenario = compiled.scenario;
    const keyPath = scenario.entry.key;
    const mine = active.filter((e) => e.scenarioId === compiled.id);
    for (const e of mine) {
      if (event.occurredAt <= e.enteredAt) continue;
      // With a key, a cancellation of one booking ends that booking's enrollment only.
      const rule = scenario.exit?.find(
        (r) =>
          r.event === event.type &&
          matchesFilter(event.properties, r.where) &&
          concernsKey(keyPath, e.key, event.properties),
      );
      if (rule) {
        // The exit ends the enrollment before the planner sees the event: the goal is counted here.
        const goal = scenario.goal;
        const converts =
          goal !== undefined &&
          goal.event === event.type &&
          matchesFilter(event.properties, goal.where) &&
          (!goal.within || event.occurredAt <= e.enteredAt + durationMs(goal.within));
        result.exit.push({
          enrollmentId: e.id,
          reason: `exit: ${rule.event}`,
          ...(converts ? { convertedAt: event.occurredAt } : {}),
        });
      } else if (e.waitingFor === event.type || scenario.goal?.event === event.type) result.wake.push(e.id);
    }
    if (scenario.status === 'paused' || !user.following) continue;
    const startFrom = scenario.activation?.backfillFrom ? Date.parse(scenario.activation.backfillFrom) : activatedAt;
    if (event.occurredAt < startFrom) continue;
    if (!triggerMatches(scenario.entry.trigger, event, user)) continue;
    if (
      scenario.entry.audience &&
      !evaluate(scenario.entry.audience, {
        attributes: user.attributes,
        answers: user.answers,
        trigger: event.properties,
        events: [],
        enteredAt: event.occurredAt,
        previousAt: event.occurredAt,
        moment: event.occurredAt,
      })
    )
      continue;
    // Re-entry rules apply per key value (without a key: per user).
    const key = enrollmentKey(keyPath, event.properties);
    const reentry = scenario.reentry ?? 'once';
    const exiting = new Set(result.exit.map((x) => x.enrollmentId));
    const stillActive = mine.filter((e) => !exiting.has(e.id) && e.key === key);
    if (reentry !== 'restart' && key !== undefined && stillActive.length) {
      // A trigger older than the enrollment (delivered late) does not undo a newer one.
      for (const e of stillActive)
        if (event.occurredAt >= e.enteredAt) result.update.push({ enrollmentId: e.id, trigger: event.properties });
      continue;
    }
    if (reentry === 'once' && enrollments.some((e) => e.scenarioId === compiled.id && e.key === key)) continue;
    if (reentry === 'after_finish' && stillActive.length) continue;
    if (reentry === 'restart')
      for (const e of stillActive) result.exit.push({ enrollmentId: e.id, reason: 'restarted by a new trigger' });
    result.enroll.push({
      scenarioId: compiled.id,
      enteredAt: event.occurredAt,
      trigger: event.properties,
      ...(key !== undefined ? { key } : {}),
    });
  }
  return result;
}
