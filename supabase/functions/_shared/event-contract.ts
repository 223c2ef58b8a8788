// generated: do not edit. Copied from src/contract/event-rules.ts by scripts/generate-edge-contract.mjs;
// change the rules there, then run `node scripts/generate-edge-contract.mjs`.

// The event contract as plain constants and checking functions: the LINE user id and event
// type patterns, the bounds on one event, the occurred_at range, and the properties the
// engine reads for the types that change a user record. This file is the source of truth:
// src/contract/events.ts wraps it in zod for Node, and scripts/generate-edge-contract.mjs
// copies it for the Deno edge functions (supabase/functions/_shared/event-contract.ts), so
// it imports nothing and uses no Node or Deno API. The engine's SQL checks the same rules
// (lsd_properties_problem, lsd_fact_problem, lsd_ingest_claim; test/contract/sql-agrees.test.ts).
// Refusal reasons name the JSON path and never carry a value.

/** A LINE user id: "U" and 32 lowercase hex digits (one malformed id makes LINE refuse a whole multicast). */
export const LINE_USER_ID = /^U[0-9a-f]{32}$/;
/** An event type: lower snake case, 1 to 64 characters. */
export const EVENT_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
/** An ISO 8601 date-time with a time zone (Z or an offset): "2026-11-25T10:00:00+09:00". */
export const ISO_DATE_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** 1,048,576 bytes (1 MiB): one request body, whatever Content-Length says. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** 500 events in one shop-events request. */
export const MAX_EVENTS_PER_REQUEST = 500;
/** 65,536 bytes (64 KiB): one event's JSON as UTF-8 (at ingest: its properties' JSON). */
export const MAX_EVENT_BYTES = 64 * 1024;
/** 8 levels: the properties object is level 1, an object or array directly inside it level 2, and so on. */
export const MAX_PROPERTY_DEPTH = 8;
/** 100 keys in all, counted at every level of properties (array items are not keys). */
export const MAX_PROPERTY_KEYS = 100;
/** 4,000 characters (Unicode code points) in one string of properties, keys included. */
export const MAX_STRING_CHARS = 4000;
/** 200 characters: a member id or an idempotency key. */
export const MAX_ID_CHARS = 200;
/** 2000-01-01T00:00:00Z: the earliest occurred_at (a year 1 or 1970 date is an empty or zero date). */
export const EARLIEST_OCCURRED_AT_MS = Date.UTC(2000, 0, 1);
/**
 * 86,400,000 ms (one day): how far after now occurred_at may be (a follow dated 2030 would
 * hide every later unfollow).
 */
export const MAX_OCCURRED_AT_AHEAD_MS = 24 * 60 * 60 * 1000;
/** The largest whole number taken as a member id: 15 digits, exact in a double and in SQL's check. */
export const MAX_NUMERIC_MEMBER_ID = 999_999_999_999_999;

/**
 * Types that say who a LINE user is or whether they follow: only the LINE webhook records
 * them (it has LINE's signature for the user id). From a shop, an account_linked would tie
 * any member id to any LINE user, and an unfollow would stop anyone's steps.
 */
export const LINE_WEBHOOK_ONLY_TYPES: ReadonlySet<string> = new Set(['follow', 'unfollow', 'account_linked']);

/**
 * Types the engine records itself when an action step acts (source "step"; SQL:
 * lsd_commit_plans, lsd_record_rich_menu_events), so scenarios can trigger on them, wait for
 * them or exit on them. Properties: tag; name and value; richMenuId or alias; and the
 * scenario and step that acted. They are records of a change already made: one sent from
 * outside changes no tag.
 */
export const STEP_EVENT_TYPES = [
  'tag_added',
  'tag_removed',
  'attribute_set',
  'attribute_cleared',
  'richmenu_linked',
  'richmenu_unlinked',
] as const;

/** Types whose properties change the user record, checked by factProblem (SQL: lsd_fact_types). */
export const FACT_TYPES = ['follow', 'account_linked', 'profile_updated', 'survey_answered', 'list_added'] as const;
export type FactType = (typeof FACT_TYPES)[number];

const SHOWN_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/;
// A UTF-16 surrogate without its pair: PostgreSQL's text and jsonb cannot hold it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const encoder = new TextEncoder();

/** A key as it appears in a reason: a plain name is shown, anything that might be data is not. */
function keyPath(path: string, key: string): string {
  return SHOWN_KEY.test(key) && !LINE_USER_ID.test(key) ? `${path}.${key}` : `${path}[a key not shown]`;
}

/** Characters as PostgreSQL counts them (Unicode code points). */
function codePoints(s: string): number {
  return s.length <= MAX_STRING_CHARS ? s.length : [...s].length;
}

/**
 * What PostgreSQL's jsonb and text cannot hold in a string of any length (a NUL, a lone
 * UTF-16 surrogate), or undefined. Scenario validation checks every string of a scenario
 * with it too, so a definition that validates can be registered.
 */
export function storableProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which PostgreSQL cannot store';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate, which PostgreSQL cannot store';
  return undefined;
}

/** What is wrong with one string for PostgreSQL's jsonb and text, or undefined. */
export function stringProblem(s: string): string | undefined {
  if (s.length > MAX_STRING_CHARS && (s.length > 2 * MAX_STRING_CHARS || codePoints(s) > MAX_STRING_CHARS)) {
    return `is longer than ${MAX_STRING_CHARS} characters`;
  }
  return storableProblem(s);
}

/**
 * Checks properties against the depth, key count and string bounds. Walks with its own
 * stack, so a value nested thousands of levels deep is refused, never a stack overflow.
 */
export function propertiesProblem(properties: unknown, path = 'properties'): string | undefined {
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    return `${path} must be a JSON object`;
  }
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: properties, path, depth: 1 }];
  let keys = 0;
  while (stack.length) {
    const { value, path: at, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return `${at} ${problem}`;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_PROPERTY_DEPTH) {
      return `${at} nests deeper than ${MAX_PROPERTY_DEPTH} levels (counting ${path} as level 1)`;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: `${at}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      keys++;
      if (keys > MAX_PROPERTY_KEYS) return `${path} has more than ${MAX_PROPERTY_KEYS} keys (counted at every level)`;
      const keyProblem = stringProblem(key);
      if (keyProblem) return `a key in ${at} ${keyProblem}`;
      stack.push({ value: item, path: keyPath(at, key), depth: depth + 1 });
    }
  }
  return undefined;
}

/** The size of a value's JSON in UTF-8 bytes, or a reason (only after propertiesProblem or a bounded value). */
export function jsonSizeProblem(value: unknown, path: string): string | undefined {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    return `${path} cannot be written as JSON`;
  }
  const bytes = encoder.encode(text).length;
  return bytes > MAX_EVENT_BYTES
    ? `${path} is ${bytes} bytes of JSON; at most ${MAX_EVENT_BYTES} bytes per event`
    : undefined;
}

/** Checks a moment against the occurred_at range: from 2000-01-01 to a day after now. */
export function timeProblem(ms: number, now: number, path: string): string | undefined {
  if (!Number.isFinite(ms)) return `${path} is not a date`;
  if (ms < EARLIEST_OCCURRED_AT_MS) {
    return `${path} is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)`;
  }
  if (ms > now + MAX_OCCURRED_AT_AHEAD_MS) {
    return `${path} is more than a day after now: check the clock, the time zone or the unit`;
  }
  return undefined;
}

/** Parses an ISO date string with a time zone within the occurred_at range: the moment, or a reason. */
export function parseOccurredAt(value: unknown, now: number, path: string): number | string {
  const shape = `${path} must be an ISO date string with a time zone, like "2026-11-25T10:00:00+09:00"`;
  if (typeof value === 'number') {
    return `${shape} (numbers are not taken: seconds, milliseconds and nanoseconds look alike)`;
  }
  if (typeof value !== 'string' || !ISO_DATE_WITH_ZONE.test(value)) return shape;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return shape;
  return timeProblem(ms, now, path) ?? ms;
}

/** A member id: a non-empty string of at most 200 characters, or a whole number. */
export function memberIdOf(value: unknown): string | undefined | { problem: string } {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? String(value) : { problem: 'must be a string or a whole number' };
  }
  if (typeof value !== 'string') return { problem: 'must be a string or a whole number' };
  if (value.length > MAX_ID_CHARS) return { problem: `is longer than ${MAX_ID_CHARS} characters` };
  const problem = stringProblem(value);
  return problem ? { problem } : value;
}

/** What a JSON value is, in words for a reason ("got an object"); as SQL's lsd_json_kind. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    default:
      return 'nothing';
  }
}

/** A key in a reason, as SQL's lsd_key_label: a plain name is shown, anything else is not. */
function keyLabel(prefix: string, key: string): string {
  return SHOWN_KEY.test(key) && !LINE_USER_ID.test(key) ? prefix + key : `${prefix}[a key not shown]`;
}

type Props = Record<string, unknown>;
const isPresent = (value: unknown) => value !== undefined && value !== null;
const isObject = (value: unknown): value is Props =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** Blank as SQL's btrim sees it: nothing but spaces. */
const isBlank = (value: string | number) => /^ *$/.test(String(value));
/** A value user facts may hold: not an object, and not a list holding a list or an object. */
const isContainer = (value: unknown) =>
  isObject(value) || (Array.isArray(value) && value.some((item) => typeof item === 'object' && item !== null));
const containerKind = (value: unknown) =>
  Array.isArray(value) ? 'a list holding a list or an object' : jsonKind(value);
/** A present value whose kind is not one of these (a missing key passes, as SQL's `not in` on null). */
const notOneOf = (value: unknown, ...kinds: string[]) => value !== undefined && !kinds.includes(jsonKind(value));

function followProblem(p: Props): string | undefined {
  if (notOneOf(p.route, 'a string', 'a number', 'null')) {
    return `follow: route must be a string, got ${jsonKind(p.route)}`;
  }
  if (notOneOf(p.unblocked, 'true/false', 'null')) {
    return `follow: unblocked must be true or false, got ${jsonKind(p.unblocked)}`;
  }
  return undefined;
}

function accountLinkedProblem(p: Props): string | undefined {
  const id = p.memberId;
  if (!isPresent(id)) return 'account_linked: memberId is missing';
  const whole = typeof id === 'number' && Number.isInteger(id) && Math.abs(id) <= MAX_NUMERIC_MEMBER_ID;
  if (typeof id !== 'string' && !whole) {
    return `account_linked: memberId must be a string or a whole number, got ${jsonKind(id)}`;
  }
  if (isBlank(id)) return 'account_linked: memberId is empty';
  if (typeof id === 'string' && [...id].length > MAX_ID_CHARS) {
    return `account_linked: memberId is longer than ${MAX_ID_CHARS} characters`;
  }
  return undefined;
}

function profileUpdatedProblem(p: Props): string | undefined {
  // The attributes object, or (without one) the properties themselves.
  const nested = 'attributes' in p;
  if (nested && !isObject(p.attributes)) {
    return `profile_updated: attributes must be a JSON object, got ${jsonKind(p.attributes)}`;
  }
  const attributes = (nested ? p.attributes : p) as Props;
  const prefix = nested ? 'attributes.' : '';
  if (notOneOf(attributes.linked, 'true/false', 'null')) {
    return `profile_updated: ${prefix}linked must be true or false, got ${jsonKind(attributes.linked)}`;
  }
  if (notOneOf(attributes.timezone, 'a string', 'null')) {
    return (
      `profile_updated: ${prefix}timezone must be a string (an IANA zone like Asia/Tokyo), ` +
      `got ${jsonKind(attributes.timezone)}`
    );
  }
  // The first offending key in key order, as SQL's `order by key`.
  const bad = Object.keys(attributes)
    .sort()
    .find((key) => isContainer(attributes[key]));
  if (bad === undefined) return undefined;
  return (
    `profile_updated: ${keyLabel(prefix, bad)} must be a string, a number, true/false, null or a list of those, ` +
    `got ${containerKind(attributes[bad])}`
  );
}

function surveyAnsweredProblem(p: Props): string | undefined {
  const question = p.question;
  // Without a question it records no answer and only routes (a shop's own survey).
  if (!isPresent(question)) return undefined;
  if (typeof question !== 'string' && typeof question !== 'number') {
    return `survey_answered: question must be a string, got ${jsonKind(question)}`;
  }
  if (isBlank(question)) return 'survey_answered: question is empty';
  if ('answer' in p && isContainer(p.answer)) {
    return (
      'survey_answered: answer must be a string, a number, true/false or a list of those, ' +
      `got ${containerKind(p.answer)}`
    );
  }
  if (notOneOf(p.survey, 'a string', 'a number', 'null')) {
    return `survey_answered: survey must be a string, got ${jsonKind(p.survey)}`;
  }
  return undefined;
}

function listAddedProblem(p: Props): string | undefined {
  if (!isPresent(p.list)) return 'list_added: list is missing';
  if (typeof p.list !== 'string' && typeof p.list !== 'number') {
    return `list_added: list must be a string, got ${jsonKind(p.list)}`;
  }
  return undefined;
}

const FACT_CHECKS: Record<FactType, (p: Props) => string | undefined> = {
  follow: followProblem,
  account_linked: accountLinkedProblem,
  profile_updated: profileUpdatedProblem,
  survey_answered: surveyAnsweredProblem,
  list_added: listAddedProblem,
};

/**
 * What is wrong with the properties the engine reads for this event type, or undefined
 * (other types read nothing). Worded as SQL's lsd_fact_problem, which sets such an event
 * aside at ingest: user attributes and survey answers hold what conditions and placeholders
 * read (a string, a number, true/false, null, or a list of those), never an object.
 */
export function factProblem(type: string, properties: Props): string | undefined {
  return Object.hasOwn(FACT_CHECKS, type) ? FACT_CHECKS[type as FactType](properties) : undefined;
}
