// What an action step does to a user's facts: tags added or removed, attributes set or
// cleared. Pure: the planner applies it to the facts later steps (and, in a tick, the
// user's other enrollments) see; the store applies the same change to line_users in the
// commit that advances the enrollment (lsd_commit_plans), checking the tag limit again.
import type { ActionStep, RichMenuAction } from '../scenario/schema.js';
import { LIMITS, SCORE_BOUNDS } from '../scenario/schema.js';
import { attributeNameProblem } from '../contract/names.js';

export type AttributeValue = string | number | boolean;

/** The change one action step makes, as the planner decides it and the store applies it. */
export interface ActionChange {
  tags: { add: string[]; remove: string[] };
  /** increment: numbers added to attributes (scores), applied after set and clear. */
  attributes: { set: Record<string, AttributeValue>; clear: string[]; increment?: Record<string, number> | undefined };
  richMenu?: RichMenuAction | undefined;
}

export function actionChange(step: Pick<ActionStep, 'tags' | 'attributes' | 'richMenu'>): ActionChange {
  return {
    tags: { add: step.tags?.add ?? [], remove: step.tags?.remove ?? [] },
    attributes: {
      set: step.attributes?.set ?? {},
      clear: step.attributes?.clear ?? [],
      ...(step.attributes?.increment ? { increment: step.attributes.increment } : {}),
    },
    ...(step.richMenu ? { richMenu: step.richMenu } : {}),
  };
}

/** The user's tags as a list of distinct strings (a single string counts as one tag). */
export function tagsOf(attributes: Record<string, unknown>): string[] {
  const raw = attributes.tags;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  return [...new Set(list.filter((t): t is string => typeof t === 'string'))];
}

/**
 * The attributes after the change, or why it cannot be made: more than 100 tags, or an
 * attribute the engine owns. Tags keep
 * their order, new ones at the end; removing wins over adding the same tag in one step.
 */
export function applyChange(
  attributes: Record<string, unknown>,
  change: ActionChange,
): { attributes: Record<string, unknown> } | { error: string } {
  // The same list validation refuses (src/contract/names.ts): a definition that came past
  // it (an older release's) still cannot overwrite the engine's own attributes.
  const increment = change.attributes.increment ?? {};
  const reserved = [...change.attributes.clear, ...Object.keys(change.attributes.set), ...Object.keys(increment)].find(
    attributeNameProblem,
  );
  if (reserved !== undefined) return { error: `attribute "${reserved}": ${attributeNameProblem(reserved)}` };
  const removed = new Set(change.tags.remove);
  const before = tagsOf(attributes);
  const tags = [...new Set([...before, ...change.tags.add])].filter((t) => !removed.has(t));
  // Only a step that grows the list past the limit fails: one that sets an attribute of a
  // user who already has more tags (imported) is not to blame for them.
  if (tags.length > LIMITS.tagsPerUser && tags.length > before.length)
    return { error: `the user would have ${tags.length} tags; at most ${LIMITS.tagsPerUser} are kept` };
  const next: Record<string, unknown> = { ...attributes };
  for (const name of change.attributes.clear) delete next[name];
  Object.assign(next, change.attributes.set);
  for (const [name, by] of Object.entries(increment)) {
    const sum = addTo(name, next[name], by);
    if (typeof sum === 'string') return { error: sum };
    next[name] = sum;
  }
  if (change.tags.add.length || change.tags.remove.length) next.tags = tags;
  return { attributes: next };
}

const kindOf = (v: unknown): string =>
  Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/** The attribute's number plus `by` (an attribute not set counts as 0), or why not (lsd_act_change says the same). */
export function addTo(name: string, current: unknown, by: number): number | string {
  if (current !== undefined && (typeof current !== 'number' || !Number.isFinite(current)))
    return `attribute "${name}" holds ${kindOf(current)}, not a number: the step cannot add ${by} to it (set it to a number or clear it first)`;
  const sum = (current ?? 0) + by;
  if (Math.abs(sum) > SCORE_BOUNDS.stored)
    return `attribute "${name}" would be ${sum}: a number an action step adds to stays within ±${SCORE_BOUNDS.stored.toLocaleString('en')}`;
  return sum;
}

/** Whether the change touches tags or attributes (not only the rich menu). */
export function changesFacts(change: ActionChange): boolean {
  return (
    change.tags.add.length + change.tags.remove.length + change.attributes.clear.length > 0 ||
    Object.keys(change.attributes.set).length + Object.keys(change.attributes.increment ?? {}).length > 0
  );
}
