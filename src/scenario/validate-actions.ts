// Checks of action steps beyond their schema: an action does something, and does not undo
// itself (a tag both added and removed, an attribute both set and cleared). Whether a rich
// menu or alias exists is a question for LINE: rich-menus-on-line.ts asks it.
import type { ActionStep, Scenario } from './schema.js';
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
  const { set, clear } = step.attributes ?? {};
  if (step.attributes && set === undefined && clear === undefined)
    list.add([...base, 'attributes'], 'action', 'give "set" or "clear", or remove "attributes".');
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

export function checkActions(list: IssueList, scenario: Scenario): void {
  scenario.steps.forEach((step, i) => {
    if (step.type === 'action') checkAction(list, step, ['steps', i]);
  });
}
