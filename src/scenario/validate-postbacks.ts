// The postback data a scenario's buttons carry (quick replies, templates, flex, date
// pickers), read by the same grammar as the LINE webhook (src/contract/postback-rules.ts,
// docs/events.md): data the webhook would set aside (a question id a condition cannot read,
// q= twice, a picker with a=) is refused here, at its file, line and column, before any
// user taps it; and LINE's 300-character bound on data.
import { MAX_POSTBACK_DATA_CHARS, parsePostback } from '../contract/postback-rules.js';
import type { Scenario } from './schema.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';

type Visit = (action: Record<string, unknown>, path: JsonPath) => void;

/** Calls visit for every postback or date picker action inside a JSON value. */
function forEachPostback(value: unknown, path: JsonPath, visit: Visit): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => forEachPostback(item, [...path, i], visit));
    return;
  }
  if (!value || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  if ((object.type === 'postback' || object.type === 'datetimepicker') && typeof object.data === 'string') {
    visit(object, path);
  }
  for (const [key, item] of Object.entries(object)) forEachPostback(item, [...path, key], visit);
}

/** What the webhook would make of this action's data, as a problem, or undefined. */
function postbackProblem(action: Record<string, unknown>): string | undefined {
  const data = action.data as string;
  if (data.length > MAX_POSTBACK_DATA_CHARS) {
    return `LINE takes at most ${MAX_POSTBACK_DATA_CHARS} characters of postback data; this has ${data.length}`;
  }
  // A date picker's tap carries its choice in params: read the data as the webhook will then.
  const mode = typeof action.mode === 'string' ? action.mode : 'datetime';
  const parsed = parsePostback(data, action.type === 'datetimepicker' ? { [mode]: '2026-01-01' } : undefined);
  return 'problem' in parsed ? `the webhook would set this tap aside: ${parsed.problem}` : undefined;
}

export function checkPostbacks(list: IssueList, scenario: Scenario): void {
  scenario.steps.forEach((step, i) => {
    if (step.type !== 'message') return;
    forEachPostback(step.messages, ['steps', i, 'messages'], (action, path) => {
      const problem = postbackProblem(action);
      if (problem) list.add([...path, 'data'], 'postback', `${problem} (docs/events.md)`);
    });
  });
}
