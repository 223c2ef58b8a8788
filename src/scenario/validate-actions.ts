// Checks of action steps beyond their schema: an action does something, and does not undo
// itself (a tag both added and removed, an attribute both set and cleared). Whether a rich
// menu or alias exists is a question for LINE: rich-menus-on-line.ts asks it.
import { LIMITS, type ActionStep, type Scenario } from './schema.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';

/** Each name of `names` that also appears in `other` or earlier in `names`. */
function clashes(
  list: IssueList,
  names: readonly string[] | undefined,
  other: readonly string[],
  path: JsonPath,
  say: { twice: (n: string) => string; both: (n: string) => string },
): void {
  const seen = new Set<string>();
  names?.forEach((name, n) => {
    if (seen.has(name)) list.add([...path, n], 'action', say.twice(name));
    else if (other.includes(name)) list.add([...path, n], 'action', say.both(name));
    seen.add(name);
  });
}

function checkAction(list: IssueList, step: ActionStep, base: JsonPath): void {
  if (!step.tags && !step.attributes && !step.richMenu) {
    list.add(
      base,
      'action',
      `action step "${step.id}" does nothing: give it "tags", "attributes" or "richMenu", or remove the step.`,
    );
  }
  if (step.tags && !step.tags.add && !step.tags.remove)
    list.add([...base, 'tags'], 'action', 'give "add" or "remove" a list of tags, or remove "tags".');
  const { set, clear, increment } = step.attributes ?? {};
  if (step.attributes && set === undefined && clear === undefined && increment === undefined)
    list.add([...base, 'attributes'], 'action', 'give "set", "clear" or "increment", or remove "attributes".');
  if (increment && Object.keys(increment).length === 0)
    list.add(
      [...base, 'attributes', 'increment'],
      'action',
      'add to at least one attribute, e.g. {"score": 5}, or remove "increment".',
    );
  checkIncrements(list, step, base);
  if (set && Object.keys(set).length === 0)
    list.add(
      [...base, 'attributes', 'set'],
      'action',
      'set at least one attribute, e.g. {"plan": "gold"}, or remove "set".',
    );
  clashes(list, step.tags?.add, [], [...base, 'tags', 'add'], {
    twice: (t) => `tag "${t}" is listed twice: keep one.`,
    both: () => '',
  });
  clashes(list, step.tags?.remove, step.tags?.add ?? [], [...base, 'tags', 'remove'], {
    twice: (t) => `tag "${t}" is listed twice: keep one.`,
    both: (t) => `tag "${t}" is also added by this step: keep it in "add" or in "remove", not both.`,
  });
  clashes(list, clear, Object.keys(set ?? {}), [...base, 'attributes', 'clear'], {
    twice: (a) => `attribute "${a}" is listed twice: keep one.`,
    both: (a) => `attribute "${a}" is also set by this step: set it or clear it, not both.`,
  });
}

/** An attribute a step adds to is not also set or cleared by it: which would come first is not obvious. */
function checkIncrements(list: IssueList, step: ActionStep, base: JsonPath): void {
  const { set, clear, increment } = step.attributes ?? {};
  for (const name of Object.keys(increment ?? {})) {
    const other = set && name in set ? 'set' : clear?.includes(name) ? 'cleared' : undefined;
    if (other)
      list.add(
        [...base, 'attributes', 'increment', name],
        'action',
        `attribute "${name}" is also ${other} by this step: add to it or ${other === 'set' ? 'set' : 'clear'} it, not both (use two steps).`,
      );
  }
}

/**
 * What one step may do for each user (LIMITS): every tag added or removed, attribute set
 * or cleared and rich menu change writes one step event per user, so 2,000 attributes on
 * a step taken by 100 users were 200,000 events.
 */
function checkBounds(list: IssueList, step: ActionStep, base: JsonPath): void {
  const { set, clear, increment } = step.attributes ?? {};
  const changes =
    Object.keys(increment ?? {}).length +
    (step.tags?.add?.length ?? 0) +
    (step.tags?.remove?.length ?? 0) +
    Object.keys(set ?? {}).length +
    (clear?.length ?? 0) +
    (step.richMenu ? 1 : 0);
  if (changes > LIMITS.changesPerStep)
    list.add(
      base,
      'step-bounds',
      `action step "${step.id}" makes ${changes} changes (tags, attributes, rich menu); at most ${LIMITS.changesPerStep} per step, each one an event per user: split it into several steps.`,
    );
  const chars = Object.values(set ?? {}).reduce<number>((n, v) => n + (typeof v === 'string' ? v.length : 0), 0);
  if (chars > LIMITS.attributeCharsPerStep)
    list.add(
      [...base, 'attributes', 'set'],
      'step-bounds',
      `the values this step sets hold ${chars} characters; at most ${LIMITS.attributeCharsPerStep} per step (each user's record and events keep a copy): shorten them or split the step.`,
    );
}

export function checkActions(list: IssueList, scenario: Scenario): void {
  scenario.steps.forEach((step, i) => {
    if (step.type !== 'action') return;
    checkAction(list, step, ['steps', i]);
    checkBounds(list, step, ['steps', i]);
  });
}
