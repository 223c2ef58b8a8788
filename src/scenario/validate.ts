// Validates one scenario file: JSON syntax, the schema, then the rules a schema cannot
// say (the step graph, timing, placeholders, time zones). Every issue names the file,
// the JSON path and line, and how to fix it.
import type { z } from 'zod';
import {
  ScenarioSchema,
  END,
  COMPARISON_OPERATORS,
  type Scenario,
  type Condition,
  type Duration,
  type PropertyFilter,
} from './schema.js';
import { parseJsonWithPositions, JsonSyntaxError, type JsonPath, type ParsedJson } from './json-source.js';
import { stepSuccessors } from './graph.js';
import { didYouMean } from './suggest.js';
import { findPlaceholders, forEachString, isValidPlaceholderKey } from './placeholders.js';
import { isValidTimeZone, knownTimeZones, parseHhMm } from '../time/zoned.js';
import type { Rule, ScenarioIssue } from './issues.js';

export interface FileResult {
  file: string;
  scenario?: Scenario;
  issues: ScenarioIssue[];
}

/** Every property name the language knows, for "did you mean" on an unknown one. */
const KNOWN_KEYS: Set<string> = (() => {
  const keys = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
    seen.add(schema);
    const def = (schema as { def?: Record<string, unknown> }).def;
    if (!def) return;
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (shape && typeof shape === 'object') {
      for (const [k, v] of Object.entries(shape)) {
        keys.add(k);
        walk(v);
      }
    }
    if (def.type === 'lazy' && typeof def.getter === 'function') walk((def.getter as () => unknown)());
    for (const field of ['innerType', 'element', 'valueType', 'in', 'out']) walk(def[field]);
    if (Array.isArray(def.options)) def.options.forEach(walk);
  };
  walk(ScenarioSchema);
  return keys;
})();

function describeZodIssue(issue: z.core.$ZodIssue, value: unknown): { rule: Rule; message: string } {
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        rule: 'unknown-property',
        message: issue.keys
          .map((k) => `unknown property "${k}".${didYouMean(k, KNOWN_KEYS)} Remove it or fix its name.`)
          .join(' '),
      };
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) {
        const got = JSON.stringify(value);
        return {
          rule: 'schema',
          message: `${String(issue.path.at(-1) ?? 'type')} ${got === undefined ? 'is missing' : `${got} is not known`}: use one of ${options.map((o) => `"${String(o)}"`).join(', ')}.${
            typeof value === 'string' ? didYouMean(value, options.map(String)) : ''
          }`,
        };
      }
      return {
        rule: 'schema',
        message:
          'this is not a valid condition: write {"all": [...]}, {"any": [...]}, {"not": {...}}, {"field": "user.gender", "eq": "female"} or {"event": "purchased"}.',
      };
    }
    case 'invalid_type':
      if (value === undefined)
        return { rule: 'schema', message: `required property is missing: add it (${issue.expected}).` };
      return {
        rule: 'schema',
        message: `expected ${issue.expected}, found ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}.`,
      };
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      return {
        rule: 'schema',
        message: `${JSON.stringify(value)} is not allowed: use ${allowed.join(' or ')}.${typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : ''}`,
      };
    }
    default:
      return { rule: 'schema', message: `${issue.message}.`.replace(/\.\.$/, '.') };
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

class IssueList {
  readonly issues: ScenarioIssue[] = [];
  constructor(
    private readonly file: string,
    private readonly source: ParsedJson,
  ) {}
  add(path: JsonPath, rule: Rule, message: string): void {
    const { line, column } = this.source.positionOf(path);
    this.issues.push({ file: this.file, path, line, column, rule, message });
  }
}

function durationMinutes(d: Duration | undefined): number {
  return d ? (d.days ?? 0) * 1440 + (d.hours ?? 0) * 60 + (d.minutes ?? 0) : 0;
}

function checkDuration(list: IssueList, d: Duration | undefined, path: JsonPath): void {
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

function checkFilter(list: IssueList, filter: PropertyFilter | undefined, path: JsonPath): void {
  for (const [key, value] of Object.entries(filter ?? {})) {
    if (value !== null && typeof value === 'object') checkComparison(list, value, [...path, key]);
  }
}

function checkCondition(list: IssueList, c: Condition, path: JsonPath): void {
  if ('all' in c) c.all.forEach((x, i) => checkCondition(list, x, [...path, 'all', i]));
  else if ('any' in c) c.any.forEach((x, i) => checkCondition(list, x, [...path, 'any', i]));
  else if ('not' in c) checkCondition(list, c.not, [...path, 'not']);
  else if ('field' in c) checkComparison(list, c, path);
  else checkFilter(list, c.where, [...path, 'where']);
}

function checkGraph(list: IssueList, scenario: Scenario): void {
  const ids = new Map<string, number>();
  scenario.steps.forEach((step, i) => {
    if (step.id === END)
      list.add(
        ['steps', i, 'id'],
        'reserved-step-id',
        '"end" means "finish the enrollment" and cannot be a step id: rename the step.',
      );
    else if (ids.has(step.id))
      list.add(
        ['steps', i, 'id'],
        'duplicate-step',
        `step id "${step.id}" is already used by steps[${ids.get(step.id)}]: give each step its own id.`,
      );
    else ids.set(step.id, i);
  });
  const known = [...ids.keys()];

  // References: every next/default/onTimeout names a step or "end".
  const refPaths = (i: number): { path: JsonPath; to: string }[] =>
    stepSuccessors(scenario.steps, i).flatMap((e) => (e.via ? [{ path: ['steps', i, ...e.via], to: e.to }] : []));
  let brokenRefs = false;
  scenario.steps.forEach((step, i) => {
    for (const ref of refPaths(i)) {
      if (ref.to !== END && !ids.has(ref.to)) {
        brokenRefs = true;
        list.add(
          ref.path,
          'unknown-step',
          `there is no step "${ref.to}".${didYouMean(ref.to, known)} Use a step id of this scenario or "end".`,
        );
      }
    }
    if (step.type === 'branch' && step.default === undefined) {
      list.add(
        ['steps', i],
        'branch-without-default',
        `branch "${step.id}" has no "default": add "default": "<step id>" or "end", for users no branch matches.`,
      );
    }
  });
  if (brokenRefs || ids.size !== scenario.steps.length) return;

  // Reachability from the first step.
  const reached = new Set<string>();
  const stack = [scenario.steps[0]!.id];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === END || reached.has(id)) continue;
    reached.add(id);
    for (const s of stepSuccessors(scenario.steps, ids.get(id)!)) stack.push(s.to);
  }
  scenario.steps.forEach((step, i) => {
    if (!reached.has(step.id)) {
      list.add(
        ['steps', i],
        'unreachable-step',
        `no path leads to step "${step.id}": point a "next" (or a branch) at it, or remove it.`,
      );
    }
  });

  // A loop in which no step waits would send without end: every cycle needs a delay.
  const takesTime = (i: number): boolean => {
    const step = scenario.steps[i]!;
    if (step.type === 'wait') return true;
    const w = step.wait;
    return (
      !!w &&
      (w.at !== undefined ||
        durationMinutes(w.after) > 0 ||
        w.before !== undefined ||
        (w.from ?? 'previous').startsWith('trigger.'))
    );
  };
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): boolean => {
    if (id === END) return false;
    if (state.get(id) === 'done') return false;
    if (state.get(id) === 'open') {
      const cycle = trail.slice(trail.indexOf(id));
      list.add(
        ['steps', ids.get(id)!],
        'loop-without-delay',
        `steps ${[...cycle, id].join(' → ')} form a loop with no delay: give one of them a "wait".`,
      );
      return true;
    }
    state.set(id, 'open');
    trail.push(id);
    const i = ids.get(id)!;
    // Edges out of a step that takes time cannot close an instant loop.
    const found = !takesTime(i) && stepSuccessors(scenario.steps, i).some((s) => visit(s.to));
    trail.pop();
    state.set(id, 'done');
    return found;
  };
  for (const id of known) if (!state.has(id)) visit(id);
}

function checkTiming(list: IssueList, scenario: Scenario): void {
  const triggerHasProperties = scenario.entry.trigger.type === 'event';
  scenario.steps.forEach((step, i) => {
    const base: JsonPath = ['steps', i];
    checkDuration(list, step.expireAfter, [...base, 'expireAfter']);
    if (step.type === 'wait') {
      checkDuration(list, step.timeout, [...base, 'timeout']);
      if (durationMinutes(step.timeout) === 0)
        list.add([...base, 'timeout'], 'timing', 'a wait needs a timeout longer than zero.');
      checkFilter(list, step.for.where, [...base, 'for', 'where']);
    }
    if (step.type === 'branch')
      step.branches.forEach((b, n) => checkCondition(list, b.when, [...base, 'branches', n, 'when']));
    const w = step.wait;
    if (!w) return;
    const wp: JsonPath = [...base, 'wait'];
    checkDuration(list, w.after, [...wp, 'after']);
    checkDuration(list, w.before, [...wp, 'before']);
    if (w.after && w.before) list.add(wp, 'timing', 'give "after" or "before", not both.');
    const from = w.from ?? 'previous';
    if (w.before && !from.startsWith('trigger.')) {
      list.add(
        [...wp, 'before'],
        'timing',
        '"before" counts back from a date: add "from": "trigger.<date property>", e.g. "trigger.reservationAt".',
      );
    }
    if (from.startsWith('trigger.') && !triggerHasProperties) {
      list.add(
        [...wp, 'from'],
        'trigger-date',
        `a ${scenario.entry.trigger.type} trigger carries no dates: use "previous" or "entry", or enter on an event that has the date.`,
      );
    }
    if (w.at !== undefined) {
      const d = w.after ?? w.before;
      if (d && (d.hours || d.minutes)) {
        list.add(
          [...wp, 'at'],
          'timing',
          '"at" sets the time of day, so count the delay in days only (e.g. {"days": 3}, "at": "10:00").',
        );
      }
    }
  });
}

function checkWindow(list: IssueList, window: { start: string; end: string } | null | undefined, path: JsonPath): void {
  if (window && parseHhMm(window.start) >= parseHhMm(window.end)) {
    list.add(
      path,
      'send-window',
      `the send window starts at ${window.start} and ends at ${window.end}: "start" must come before "end" on the same day (for example 09:00 to 21:00).`,
    );
  }
}

function checkMessages(list: IssueList, scenario: Scenario): void {
  scenario.steps.forEach((step, i) => {
    if (step.type !== 'message') return;
    checkWindow(list, step.sendWindow, ['steps', i, 'sendWindow']);
    for (const key of Object.keys(step.fallbacks ?? {})) {
      if (!isValidPlaceholderKey(key))
        list.add(
          ['steps', i, 'fallbacks', key],
          'placeholder',
          `"${key}" is not a placeholder name: write "user.<attribute>", "trigger.<property>" or "answers.<question>".`,
        );
    }
    forEachString(step.messages, ['steps', i, 'messages'], (text, path) => {
      const opened = text.split('{{').length - 1;
      const found = findPlaceholders(text);
      if (found.length !== opened)
        list.add(path, 'placeholder', 'a "{{" is not closed: write placeholders as {{user.displayName}}.');
      for (const p of found) {
        if (!isValidPlaceholderKey(p.key)) {
          list.add(
            path,
            'placeholder',
            `${p.token} is not a placeholder: write {{user.<attribute>}}, {{trigger.<property>}}, {{answers.<question>}} or {{link.<id>}}.${didYouMean(p.namespace, ['user', 'trigger', 'answers', 'link'])}`,
          );
        } else if (p.namespace === 'link' && !step.links?.[p.path]) {
          list.add(
            path,
            'placeholder',
            `${p.token}: this step has no link "${p.path}": add "links": {"${p.path}": "https://..."} to the step.`,
          );
        } else if (p.namespace === 'trigger' && scenario.entry.trigger.type !== 'event') {
          list.add(
            path,
            'placeholder',
            `${p.token}: a ${scenario.entry.trigger.type} trigger has no properties; use {{user.…}} or enter on an event.`,
          );
        }
      }
    });
  });
}

export function validateScenarioObject(file: string, source: ParsedJson): FileResult {
  const list = new IssueList(file, source);
  const parsed = ScenarioSchema.safeParse(source.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const described = describeZodIssue(issue, valueAt(source.value, issue.path));
      list.add(path, described.rule, described.message);
    }
    return { file, issues: list.issues };
  }
  const scenario = parsed.data;
  const tz = scenario.timezone;
  if (tz !== undefined && !isValidTimeZone(tz)) {
    list.add(
      ['timezone'],
      'timezone',
      `"${tz}" is not an IANA time zone.${didYouMean(tz, knownTimeZones())} Examples: "Asia/Tokyo", "America/New_York".`,
    );
  }
  checkWindow(list, scenario.sendWindow, ['sendWindow']);
  if (scenario.entry.trigger.type === 'event')
    checkFilter(list, scenario.entry.trigger.where, ['entry', 'trigger', 'where']);
  if (scenario.entry.trigger.type === 'audience')
    checkCondition(list, scenario.entry.trigger.condition, ['entry', 'trigger', 'condition']);
  if (scenario.entry.audience) checkCondition(list, scenario.entry.audience, ['entry', 'audience']);
  scenario.exit?.forEach((rule, i) => checkFilter(list, rule.where, ['exit', i, 'where']));
  checkDuration(list, scenario.goal?.within, ['goal', 'within']);
  checkGraph(list, scenario);
  checkTiming(list, scenario);
  checkMessages(list, scenario);
  return list.issues.length ? { file, issues: list.issues } : { file, scenario, issues: [] };
}

/** Validates the text of one scenario file. */
export function validateScenarioText(file: string, text: string): FileResult {
  let source: ParsedJson;
  try {
    source = parseJsonWithPositions(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      return {
        file,
        issues: [{ file, path: [], ...e.position, rule: 'json-syntax', message: `invalid JSON: ${e.message}.` }],
      };
    }
    throw e;
  }
  return validateScenarioObject(file, source);
}
