// Checks of conditions, property filters and durations that the schema cannot say: one
// operator per comparison, a duration that is not empty.
import { COMPARISON_OPERATORS, type Condition, type Duration, type PropertyFilter } from './schema.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';

export function durationMinutes(d: Duration | undefined): number {
  return d ? (d.days ?? 0) * 1440 + (d.hours ?? 0) * 60 + (d.minutes ?? 0) : 0;
}

export function checkDuration(list: IssueList, d: Duration | undefined, path: JsonPath): void {
  if (d && d.days === undefined && d.hours === undefined && d.minutes === undefined) {
    list.add(path, 'empty-duration', 'a duration needs days, hours or minutes, e.g. {"days": 1}.');
  }
}

function checkComparison(list: IssueList, c: Record<string, unknown>, path: JsonPath): void {
  const ops = COMPARISON_OPERATORS.filter((op) => c[op] !== undefined);
  if (ops.length !== 1) {
    list.add(
      path,
      'one-operator',
      ops.length === 0
        ? `a comparison needs one operator: ${COMPARISON_OPERATORS.join(', ')}.`
        : `a comparison takes one operator, found ${ops.join(' and ')}: split it with "all".`,
    );
  }
}

export function checkFilter(list: IssueList, filter: PropertyFilter | undefined, path: JsonPath): void {
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (value !== null && typeof value === 'object') checkComparison(list, value, [...path, key]);
  }
}

export function checkCondition(list: IssueList, c: Condition, path: JsonPath): void {
  if ('all' in c) c.all.forEach((x, i) => checkCondition(list, x, [...path, 'all', i]));
  else if ('any' in c) c.any.forEach((x, i) => checkCondition(list, x, [...path, 'any', i]));
  else if ('not' in c) checkCondition(list, c.not, [...path, 'not']);
  else if ('field' in c) checkComparison(list, c, path);
  else checkFilter(list, c.where, [...path, 'where']);
}
