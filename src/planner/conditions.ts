// Evaluates conditions and property filters against what is known of a user at a
// step's moment. Events later than the moment are never looked at, so a decision does
// not depend on when the tick runs.
import type { Comparison, Condition, PropertyFilter } from '../scenario/schema.js';
import { readOwnPath } from './paths.js';
import type { EnrollmentState, EventFact, UserFacts } from './types.js';

export interface ConditionContext {
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
  trigger: Record<string, unknown>;
  /** The user's events since entry, oldest first. */
  events: readonly EventFact[];
  enteredAt: number;
  previousAt: number;
  /** Only events up to this instant count. */
  moment: number;
}

/**
 * What a condition sees: the user's facts as they are now, the trigger, and the events up to
 * `moment`. The one place a context is put together: a branch passes the enrollment's place and
 * its events; routing passes an entry at the event's own instant, with no events.
 */
export function conditionContext(
  user: Pick<UserFacts, 'attributes' | 'answers'>,
  at: Pick<EnrollmentState, 'trigger' | 'enteredAt' | 'previousAt'>,
  moment: number,
  events: readonly EventFact[] = [],
): ConditionContext {
  return {
    attributes: user.attributes,
    answers: user.answers,
    trigger: at.trigger,
    events,
    enteredAt: at.enteredAt,
    previousAt: at.previousAt,
    moment,
  };
}

const numeric = (v: unknown): number | undefined =>
  typeof v === 'number'
    ? v
    : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))
      ? Number(v)
      : undefined;

/** A value as conditions compare it: by its text. A value that cannot be turned into text
 * throws here, and fails only the event or enrollment being decided (tested). */
const text = (v: unknown): string => String(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return false;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return text(a) === text(b);
}

function order(a: unknown, b: unknown): number | undefined {
  if (a === undefined || a === null) return undefined;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na - nb;
  const sa = text(a);
  const sb = text(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function compare(value: unknown, c: Comparison): boolean {
  if (c.eq !== undefined) return Array.isArray(value) ? value.some((v) => equal(v, c.eq)) : equal(value, c.eq);
  if (c.ne !== undefined) return !equal(value, c.ne);
  if (c.in !== undefined) return c.in.some((x) => equal(value, x));
  if (c.notIn !== undefined) return !c.notIn.some((x) => equal(value, x));
  if (c.exists !== undefined) return (value !== undefined && value !== null) === c.exists;
  if (c.contains !== undefined) {
    if (Array.isArray(value)) return value.some((v) => equal(v, c.contains));
    return typeof value === 'string' && value.includes(String(c.contains));
  }
  const threshold = c.gt ?? c.gte ?? c.lt ?? c.lte;
  const diff = order(value, threshold);
  if (diff === undefined) return false;
  if (c.gt !== undefined) return diff > 0;
  if (c.gte !== undefined) return diff >= 0;
  if (c.lt !== undefined) return diff < 0;
  return diff <= 0;
}

export function matchesFilter(properties: Record<string, unknown>, filter: PropertyFilter | undefined): boolean {
  if (!filter) return true;
  for (const [key, expected] of Object.entries(filter)) {
    const value = readOwnPath(properties, key);
    if (expected !== null && typeof expected === 'object' ? !compare(value, expected) : !equal(value, expected))
      return false;
  }
  return true;
}

export function fieldValue(field: string, ctx: Pick<ConditionContext, 'attributes' | 'answers' | 'trigger'>): unknown {
  const dot = field.indexOf('.');
  const namespace = field.slice(0, dot);
  const path = field.slice(dot + 1);
  const source = namespace === 'user' ? ctx.attributes : namespace === 'answers' ? ctx.answers : ctx.trigger;
  return readOwnPath(source, path);
}

export function evaluate(condition: Condition, ctx: ConditionContext): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluate(c, ctx));
  if ('any' in condition) return condition.any.some((c) => evaluate(c, ctx));
  if ('not' in condition) return !evaluate(condition.not, ctx);
  if ('field' in condition) return compare(fieldValue(condition.field, ctx), condition);
  const from = condition.since === 'previous' ? ctx.previousAt : ctx.enteredAt;
  const needed = condition.atLeast ?? 1;
  return countMatchingEvents(ctx.events, condition, { from, through: ctx.moment }, needed) >= needed;
}

/** An event type and a filter of its properties: a wait's `for`, an exit rule, the goal, an event condition. */
export interface EventQuery {
  event: string;
  where?: PropertyFilter | undefined;
}

/**
 * The instants an event counts in: strictly after `after`, or at or after `from`; and at or before
 * `through`. Exits and the goal count from just after the entry (the entry's own event is neither);
 * a wait counts from its start, a condition from the entry or the previous step, both inclusive.
 */
export type EventWindow = { after: number; through: number } | { from: number; through: number };

/** Whether the event is of the query's type and its properties match the query's filter. */
export function matchesEvent(e: Pick<EventFact, 'type' | 'properties'>, query: EventQuery): boolean {
  return e.type === query.event && matchesFilter(e.properties, query.where);
}

/** The first (oldest) event of the query in the window; the events are oldest first. */
export function firstMatchingEvent(
  events: readonly EventFact[],
  query: EventQuery,
  window: EventWindow,
): EventFact | undefined {
  return events[nextMatch(events, query, window, 0)];
}

/** How many events of the query are in the window, counting no further than `enough`. */
export function countMatchingEvents(
  events: readonly EventFact[],
  query: EventQuery,
  window: EventWindow,
  enough = Infinity,
): number {
  let count = 0;
  for (let i = nextMatch(events, query, window, 0); i < events.length && count < enough;) {
    count++;
    i = nextMatch(events, query, window, i + 1);
  }
  return count;
}

/** The index of the next event of the query in the window, from `start` on (events.length: none). */
function nextMatch(events: readonly EventFact[], query: EventQuery, window: EventWindow, start: number): number {
  const strict = 'after' in window;
  const lowest = strict ? window.after : window.from;
  for (let i = start; i < events.length; i++) {
    const e = events[i]!;
    const at = e.occurredAt;
    if ((strict ? at > lowest : at >= lowest) && at <= window.through && matchesEvent(e, query)) return i;
  }
  return events.length;
}
