// zod's issues said in the scenario language: what is wrong at a path and how to fix it,
// with "did you mean" against the property names the language knows.
import type { z } from 'zod';
import { knownPropertyNames } from './json-schema.js';
import { didYouMean } from './suggest.js';
import type { Rule } from './issues.js';

export interface Described {
  rule: Rule;
  message: string;
}

/** Every property name the language knows, for "did you mean" on an unknown one. */
let knownKeys: Set<string> | undefined;
const KNOWN_KEYS = (): Set<string> => (knownKeys ??= knownPropertyNames());

const RICH_MENU_FORMS = '{"alias": "<alias id>"}, {"id": "richmenu-<32 hex digits>"} or {"unlink": true}';
const RICH_MENU_KEYS = ['id', 'alias', 'unlink'];

/** A rich menu that matches none of its three forms: which form it is closest to, and what to change. */
function richMenuProblem(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return `"richMenu" is one of ${RICH_MENU_FORMS}.`;
  const keys = Object.keys(value);
  const unknown = keys.filter((k) => !RICH_MENU_KEYS.includes(k));
  if (unknown.length)
    return unknown
      .map((k) => `unknown property "${k}" in "richMenu".${didYouMean(k, RICH_MENU_KEYS)} Write ${RICH_MENU_FORMS}.`)
      .join(' ');
  if (keys.length === 0) return `name the menu: ${RICH_MENU_FORMS}.`;
  if (keys.length > 1) return `give one of "id", "alias" or "unlink", not ${keys.map((k) => `"${k}"`).join(' and ')}.`;
  const given = (value as Record<string, unknown>)[keys[0]!];
  if (keys[0] === 'unlink') return `"unlink" is true; to leave the user's rich menu as it is, remove "richMenu".`;
  return `"${keys[0]}" is a string, found ${kindOf(given)}: write ${RICH_MENU_FORMS}.`;
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion, value: unknown): Described {
  if (issue.path.at(-1) === 'richMenu') return { rule: 'schema', message: richMenuProblem(value) };
  if (issue.path.at(-3) === 'attributes' && issue.path.at(-2) === 'set')
    return {
      rule: 'schema',
      message: `an attribute holds one plain value: a string, a number or true/false, found ${kindOf(value)}. To remove an attribute, list it in "clear".`,
    };
  const options = (issue as { options?: unknown[] }).options;
  if (options) {
    const got = JSON.stringify(value);
    const what = String(issue.path.at(-1) ?? 'type');
    const hint = typeof value === 'string' ? didYouMean(value, options.map(String)) : '';
    return {
      rule: 'schema',
      message: `${what} ${got === undefined ? 'is missing' : `${got} is not known`}: use one of ${options.map((o) => `"${String(o)}"`).join(', ')}.${hint}`,
    };
  }
  return {
    rule: 'schema',
    message:
      'this is not a valid condition: write {"all": [...]}, {"any": [...]}, {"not": {...}}, {"field": "user.gender", "eq": "female"} or {"event": "purchased"}.',
  };
}

const sentence = (text: string): string => `${text}.`.replace(/\.\.$/, '.');

export function describeZodIssue(issue: z.core.$ZodIssue, value: unknown): Described {
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        rule: 'unknown-property',
        message: issue.keys
          .map((k) => `unknown property "${k}".${didYouMean(k, KNOWN_KEYS())} Remove it or fix its name.`)
          .join(' '),
      };
    case 'invalid_union':
      return describeUnion(issue, value);
    case 'invalid_key':
      // A property name a record refuses (an attribute name): the key schema's own message.
      return { rule: 'schema', message: issue.issues.map((i) => sentence(i.message)).join(' ') };
    case 'invalid_type':
      if (value === undefined)
        return { rule: 'schema', message: `required property is missing: add it (${issue.expected}).` };
      return { rule: 'schema', message: `expected ${issue.expected}, found ${kindOf(value)}.` };
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      return {
        rule: 'schema',
        message: `${JSON.stringify(value)} is not allowed: use ${allowed.join(' or ')}.${typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : ''}`,
      };
    }
    default:
      return { rule: 'schema', message: sentence(issue.message) };
  }
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}
