// Tags that are what they look like: each tag a scenario names (in an action step, or
// compared in a condition on user.tags) is in its stored form (src/contract/names.ts:
// normalizeTag), and no two of them differ only in case, which a reader cannot tell apart
// at a glance ("VIP" and "Vip" would be two tags).
import { tagProblem } from '../contract/names.js';
import type { Condition, PropertyFilter, Scenario } from './schema.js';
import type { JsonPath } from './json-source.js';
import { IssueList } from './issue-list.js';
import type { ParsedJson } from './json-source.js';
import type { ScenarioIssue } from './issues.js';

interface NamedTag {
  tag: string;
  path: JsonPath;
}

const OPERATORS = ['eq', 'ne', 'in', 'notIn', 'contains'] as const;

/** The tags a condition compares user.tags with, with their paths. */
function conditionTags(c: Condition, path: JsonPath, out: NamedTag[]): void {
  if ('all' in c) c.all.forEach((x, i) => conditionTags(x, [...path, 'all', i], out));
  else if ('any' in c) c.any.forEach((x, i) => conditionTags(x, [...path, 'any', i], out));
  else if ('not' in c) conditionTags(c.not, [...path, 'not'], out);
  else if ('event' in c) filterTag(c, path, out);
  else if ('field' in c && c.field === 'user.tags') {
    for (const op of OPERATORS) {
      const value = c[op];
      if (typeof value === 'string') out.push({ tag: value, path: [...path, op] });
      if (Array.isArray(value))
        value.forEach((v, i) => typeof v === 'string' && out.push({ tag: v, path: [...path, op, i] }));
    }
  }
}

/** The events whose "tag" property is a tag the engine stored (src/contract/event-rules.ts). */
const TAG_EVENTS = new Set(['tag_added', 'tag_removed']);

/** A filter's "tag" on a tag event: compared with a stored tag, so named like one. */
function filterTag(
  query: { event: string; where?: PropertyFilter | undefined },
  path: JsonPath,
  out: NamedTag[],
): void {
  const value = query.where && Object.hasOwn(query.where, 'tag') ? query.where.tag : undefined;
  if (!TAG_EVENTS.has(query.event) || value === undefined) return;
  if (typeof value === 'string') out.push({ tag: value, path: [...path, 'where', 'tag'] });
  else if (typeof value === 'object')
    for (const op of OPERATORS) {
      const v = value[op];
      if (typeof v === 'string') out.push({ tag: v, path: [...path, 'where', 'tag', op] });
      if (Array.isArray(v))
        v.forEach((x, i) => typeof x === 'string' && out.push({ tag: x, path: [...path, 'where', 'tag', op, i] }));
    }
}

/** Tags named by the filters of tag events: the trigger, exits, the goal, waits. */
function eventTags(scenario: Scenario, out: NamedTag[]): void {
  const { trigger } = scenario.entry;
  if (trigger.type === 'event') filterTag(trigger, ['entry', 'trigger'], out);
  scenario.exit?.forEach((rule, i) => filterTag(rule, ['exit', i], out));
  if (scenario.goal) filterTag(scenario.goal, ['goal'], out);
  scenario.steps.forEach((step, i) => {
    if (step.type === 'wait') filterTag(step.for, ['steps', i, 'for'], out);
  });
}

/** Every tag the scenario names, in file order. */
export function namedTags(scenario: Scenario): NamedTag[] {
  const out: NamedTag[] = [];
  eventTags(scenario, out);
  const { trigger, audience } = scenario.entry;
  if (trigger.type === 'audience') conditionTags(trigger.condition, ['entry', 'trigger', 'condition'], out);
  if (audience) conditionTags(audience, ['entry', 'audience'], out);
  scenario.steps.forEach((step, i) => {
    if (step.type === 'branch')
      step.branches.forEach((b, j) => conditionTags(b.when, ['steps', i, 'branches', j, 'when'], out));
    if (step.type !== 'action') return;
    for (const kind of ['add', 'remove'] as const)
      step.tags?.[kind]?.forEach((tag, j) => out.push({ tag, path: ['steps', i, 'tags', kind, j] }));
  });
  return out;
}

/** Upper then lower case: "ß" and "SS" fold alike too. */
const fold = (tag: string): string => tag.toUpperCase().toLowerCase();

/**
 * Tags of different files that differ only in case (one file adds "VIP", another asks for
 * "vip"): an issue on the later file. Within one file checkTags says it.
 */
export function checkTagCaseAcross(
  files: { file: string; scenario: Scenario; positionOf?: ParsedJson['positionOf'] | undefined }[],
): ScenarioIssue[] {
  const first = new Map<string, { tag: string; file: string }>();
  const issues: ScenarioIssue[] = [];
  for (const { file, scenario, positionOf } of files) {
    const list = new IssueList(file, { positionOf: positionOf ?? (() => ({ line: 1, column: 1 })) });
    for (const { tag, path } of namedTags(scenario)) {
      const other = first.get(fold(tag));
      if (!other) first.set(fold(tag), { tag, file });
      else if (other.file !== file && other.tag !== tag)
        list.add(
          path,
          'tag',
          `tag ${JSON.stringify(tag)} differs from ${JSON.stringify(other.tag)} in ${other.file} only in case: tags are compared exactly, so these are two tags. Write one of them in both files.`,
        );
    }
    issues.push(...list.issues);
  }
  return issues;
}

export function checkTags(list: IssueList, scenario: Scenario): void {
  const byFold = new Map<string, string>();
  for (const { tag, path } of namedTags(scenario)) {
    const problem = tagProblem(tag);
    if (problem) {
      list.add(path, 'tag', `${problem}.`);
      continue;
    }
    const other = byFold.get(fold(tag));
    if (other !== undefined && other !== tag)
      list.add(
        path,
        'tag',
        `tag ${JSON.stringify(tag)} differs from ${JSON.stringify(other)} only in case: tags are compared exactly, so these are two tags. Write one of them in both places.`,
      );
    else byFold.set(fold(tag), tag);
  }
}
