// Checks every string and every property name of a scenario file as written, before the
// schema reads it (the schema drops a "__proto__" name without a word): what the store
// cannot hold (the event contract's rule: a NUL, a lone surrogate), what shows text in
// another order than it is (bidi embeddings, overrides, isolates), and, where text is
// compared with a user's data (filters, conditions, routes, attribute values), characters
// that show nothing, so that two values that look the same are the same.
import { storableProblem } from '../contract/event-rules.js';
import { invisibleCharacter, reorderingCharacter, UNSTORABLE_NAMES } from '../contract/names.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';

/** Keys under which a string is compared with a user's data or an event's properties. */
const COMPARED = new Set(['where', 'when', 'audience', 'condition', 'route', 'set']);

interface Visit {
  value: unknown;
  path: JsonPath;
  compared: boolean;
}

function checkName(list: IssueList, key: string, path: JsonPath): void {
  const unstorable = storableProblem(key);
  if (unstorable) list.add(path, 'text', `this property name ${unstorable}: remove the character.`);
  else if ((UNSTORABLE_NAMES as readonly string[]).includes(key))
    list.add(
      path,
      'text',
      `"${key}" cannot be a name: JavaScript reads it as the object's prototype, so it would vanish. Use another name.`,
    );
  else checkShown(list, key, path, true, 'this property name');
}

function checkShown(list: IssueList, text: string, path: JsonPath, compared: boolean, what: string): void {
  const reordering = reorderingCharacter(text);
  if (reordering) {
    list.add(
      path,
      'text',
      `${what} has a bidi control (${reordering}) that shows the text in another order than it is (in the PR preview and in LINE): remove it.`,
    );
    return;
  }
  const invisible = compared ? invisibleCharacter(text) : undefined;
  if (invisible)
    list.add(
      path,
      'text',
      `${what} has an invisible character (${invisible}), so it would not equal a value that looks the same: remove it.`,
    );
}

/** Every string and name of the file; a walk with its own stack (a file nested deep is no stack overflow). */
export function checkText(list: IssueList, root: unknown): void {
  const stack: Visit[] = [{ value: root, path: [], compared: false }];
  while (stack.length) {
    const { value, path, compared } = stack.pop()!;
    if (typeof value === 'string') {
      const unstorable = storableProblem(value);
      if (unstorable) list.add(path, 'text', `this text ${unstorable}: remove the character.`);
      else checkShown(list, value, path, compared, 'this text');
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: [...path, i], compared }));
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        checkName(list, key, [...path, key]);
        const item = (value as Record<string, unknown>)[key];
        // Message texts may hold invisible characters (an emoji's zero-width joiner).
        const inMessages = key === 'messages' || key === 'fallbacks' || key === 'links';
        stack.push({ value: item, path: [...path, key], compared: !inMessages && (compared || COMPARED.has(key)) });
      }
    }
  }
}
