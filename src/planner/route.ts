// What one event does to a user's enrollments: which scenarios it enrolls the user into,
// which enrollments it ends, and which waiting enrollments it wakes. Pure.
import type { CompiledScenario } from '../scenario/compile.js';
import type { Condition, Scenario, Trigger } from '../scenario/schema.js';
import { conditionContext, evaluate, matchesEvent } from './conditions.js';
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
      return matchesEvent(event, trigger);
    case 'list':
      return event.type === LIST_ADDED && event.properties.list === trigger.list;
    case 'audience':
      return ATTRIBUTE_EVENTS.has(event.type) && holdsAtEvent(trigger.condition, user, event, {});
  }
}

/** A condition as it reads when the event happens: an entry at the event's instant, with no events yet. */
function holdsAtEvent(
  condition: Condition,
  user: UserFacts,
  event: EventFact,
  trigger: Record<string, unknown>,
): boolean {
  const at = event.occurredAt;
  return evaluate(condition, conditionContext(user, { trigger, enteredAt: at, previousAt: at }, at));
}

export function routeEvent({ event, user, scenarios, enrollments }: RouteInput): RouteResult {
  const result: RouteResult = { enroll: [], exit: [], wake: [], update: [] };
  const active = enrollments.filter((e) => e.status === 'active');
  if (event.type === UNFOLLOW) {
    for (const e of active)
      if (e.enteredAt <= event.occurredAt) result.exit.push({ enrollmentId: e.id, reason: 'unfollowed' });
    return result;
  }
  for (const routing of scenarios) {
    const mine = active.filter((e) => e.scenarioId === routing.compiled.id);
    endOrWake(routing.compiled.scenario, mine, event, result);
    if (entersOn(routing, event, user)) enter(routing.compiled, mine, enrollments, event, result);
  }
  return result;
}

/** The event's effect on the scenario's active enrollments: an exit rule ends them, their awaited event or the goal wakes them. */
function endOrWake(
  scenario: Scenario,
  mine: readonly EnrollmentSummary[],
  event: EventFact,
  result: RouteResult,
): void {
  for (const e of mine) {
    if (event.occurredAt <= e.enteredAt) continue;
    const rule = exitRuleFor(scenario, event, e.key);
    if (rule) {
      // The exit ends the enrollment before the planner sees the event: the goal is counted here.
      const goal = scenario.goal;
      const converts =
        goal !== undefined &&
        matchesEvent(event, goal) &&
        (!goal.within || event.occurredAt <= e.enteredAt + durationMs(goal.within));
      result.exit.push({
        enrollmentId: e.id,
        reason: `exit: ${rule.event}`,
        ...(converts ? { convertedAt: event.occurredAt } : {}),
      });
    } else if (e.waitingFor === event.type || scenario.goal?.event === event.type) result.wake.push(e.id);
  }
}

/**
 * The exit rule of the scenario that the event meets for an enrollment with this key (undefined:
 * none). With a key, a cancellation of one booking ends that booking's enrollment only.
 */
export function exitRuleFor(
  scenario: Scenario,
  event: Pick<EventFact, 'type' | 'properties'>,
  key: string | undefined,
): NonNullable<Scenario['exit']>[number] | undefined {
  return scenario.exit?.find((r) => matchesEvent(event, r) && concernsKey(scenario.entry.key, key, event.properties));
}

/** Whether the event enrolls the user, re-entry aside: the scenario runs, the trigger matches, the user is in the audience. */
function entersOn({ compiled, activatedAt }: RoutingScenario, event: EventFact, user: UserFacts): boolean {
  const scenario = compiled.scenario;
  if (scenario.status === 'paused' || !user.following) return false;
  const startFrom = scenario.activation?.backfillFrom ? Date.parse(scenario.activation.backfillFrom) : activatedAt;
  if (event.occurredAt < startFrom) return false;
  if (!triggerMatches(scenario.entry.trigger, event, user)) return false;
  return !scenario.entry.audience || holdsAtEvent(scenario.entry.audience, user, event, event.properties);
}

/**
 * A new enrollment, as the re-entry rules allow (per key value; without a key, per user): or, for a
 * key already inside, its trigger updated; with restart, the ones inside end first.
 */
function enter(
  compiled: CompiledScenario,
  mine: readonly EnrollmentSummary[],
  enrollments: readonly EnrollmentSummary[],
  event: EventFact,
  result: RouteResult,
): void {
  const scenario = compiled.scenario;
  const key = enrollmentKey(scenario.entry.key, event.properties);
  const reentry = scenario.reentry ?? 'once';
  const exiting = new Set(result.exit.map((x) => x.enrollmentId));
  const stillActive = mine.filter((e) => !exiting.has(e.id) && e.key === key);
  if (reentry !== 'restart' && key !== undefined && stillActive.length) {
    // A trigger older than the enrollment (delivered late) does not undo a newer one.
    for (const e of stillActive)
      if (event.occurredAt >= e.enteredAt) result.update.push({ enrollmentId: e.id, trigger: event.properties });
    return;
  }
  if (reentry === 'once' && enrollments.some((e) => e.scenarioId === compiled.id && e.key === key)) return;
  if (reentry === 'after_finish' && stillActive.length) return;
  if (reentry === 'restart')
    for (const e of stillActive) result.exit.push({ enrollmentId: e.id, reason: 'restarted by a new trigger' });
  result.enroll.push({
    scenarioId: compiled.id,
    enteredAt: event.occurredAt,
    trigger: event.properties,
    ...(key !== undefined ? { key } : {}),
  });
}
