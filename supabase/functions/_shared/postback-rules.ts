// generated: do not edit. Made from src/contract/postback-rules.ts by scripts/generate-edge-modules.mjs;
// change it there, then run `node scripts/generate-edge-modules.mjs`.

// The postback grammar: what the LINE webhook makes of a postback's data (a button, a quick
// reply, a rich menu area, a date picker) and how a scenario writes survey buttons. Like
// ./event-rules.ts it imports nothing and uses no Node or Deno API: the Deno webhook runs a
// generated copy (supabase/functions/_shared/postback-rules.ts, scripts/generate-edge-modules.mjs).
// docs/events.md documents it; test/contract/postback.test.ts holds the encoder and the
// parser to each other. Problems name the key and never carry a value.
//
// Data is application/x-www-form-urlencoded (UTF-8 percent-encoding, "+" for a space), as
// URLSearchParams reads it:
//   survey=<survey id>&q=<question id>&a=<answer>   one answer, a string
//   ...&a=red&a=blue                                 repeated a: a list, in order
//   ...&a=red|blue&sep=|                             sep given: a list, each a split at sep
//   ...&q=visit (a date, time or datetime picker)    the picker's choice is the answer
// A survey tap without an answer (no a, no sep, no picker) records no answer: it never
// overwrites an earlier one. Other keys are kept as properties; data without both survey
// and q is a plain postback event.

/**
 * A question id: 1 to 64 letters, digits or "_". It is one segment of the scenario
 * language's paths ([A-Za-z0-9_]+ between dots: fields and placeholders), so
 * `answers.<question>` reads exactly the answer stored under it.
 */
export const QUESTION_ID = /^[A-Za-z0-9_]{1,64}$/;
/** One segment of a path in the scenario language (user., answers., trigger. fields and placeholders). */
export const PATH_SEGMENT = /^[A-Za-z0-9_]+$/;
/** LINE's bound on a postback action's data: 300 characters. */
export const MAX_POSTBACK_DATA_CHARS = 300;
/** The keys of the survey grammar; any other key is kept as a property of the event. */
export const SURVEY_KEYS = { survey: 'survey', question: 'q', answer: 'a', separator: 'sep' } as const;
/** The params of LINE's datetime picker action, one of which carries the choice. */
export const PICKER_PARAMS = ['date', 'time', 'datetime'] as const;

/** A survey answer: one string, or a list of strings. */
export type SurveyAnswer = string | string[];
export interface SurveyTap {
  survey: string;
  question: string;
  /** Absent: the tap records no answer (and keeps an earlier one). */
  answer?: SurveyAnswer;
}
export type PostbackEvent =
  | { type: 'survey_answered'; properties: Record<string, unknown> }
  | { type: 'postback'; properties: Record<string, unknown> };

/** Property names the grammar writes for a survey tap: data keys of these names are refused. */
const SURVEY_PROPERTIES = ['survey', 'question', 'answer', 'params'];
const SEPARATOR_CANDIDATES = [',', '|', ';', '/', '~', '^', '!', '*', ' '];

/** All values of each key, in order, as URLSearchParams decodes them. */
function fieldsOf(data: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(data)) {
    const values = fields.get(key);
    if (values) values.push(value);
    else fields.set(key, [value]);
  }
  return fields;
}

/** The picker's choice among params (date, time or datetime), if a picker was used. */
export function pickerChoice(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  for (const name of PICKER_PARAMS) {
    const value = params[name];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

/** The answer a survey tap carries, undefined for none, or a problem. */
function answerOf(
  fields: Map<string, string[]>,
  picked: string | undefined,
): SurveyAnswer | undefined | { problem: string } {
  const given = fields.get(SURVEY_KEYS.answer) ?? [];
  const separators = fields.get(SURVEY_KEYS.separator);
  if (picked !== undefined) {
    if (given.length || separators)
      return { problem: 'a picker postback carries its answer in params: remove a= and sep= from its data' };
    return picked;
  }
  if (separators) {
    const sep = separators[0]!;
    if (separators.length > 1 || !sep) return { problem: 'sep must be given once, one or more characters' };
    return given.flatMap((value) => value.split(sep));
  }
  if (given.length === 0) return undefined;
  return given.length === 1 ? given[0]! : given;
}

/** Keys other than the grammar's, kept as properties: one value a string, repeated ones a list. */
function extrasOf(fields: Map<string, string[]>, skip: readonly string[]): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const [key, values] of fields) {
    if (!skip.includes(key)) extras[key] = values.length === 1 ? values[0] : values;
  }
  return extras;
}

function surveyEvent(
  fields: Map<string, string[]>,
  params: Record<string, unknown> | undefined,
): PostbackEvent | { problem: string } {
  const surveys = fields.get(SURVEY_KEYS.survey)!;
  const questions = fields.get(SURVEY_KEYS.question)!;
  if (surveys.length > 1 || questions.length > 1) return { problem: 'survey and q must each be given once' };
  const [survey, question] = [surveys[0]!, questions[0]!];
  if (!survey) return { problem: 'survey is empty: name the survey, like survey=onboarding' };
  if (!QUESTION_ID.test(question)) {
    return {
      problem:
        'q must be 1 to 64 letters, digits or _ (so that a condition on answers.<question> can read it), like q=interest',
    };
  }
  const extras = extrasOf(fields, Object.values(SURVEY_KEYS));
  const clash = SURVEY_PROPERTIES.find((name) => Object.hasOwn(extras, name));
  if (clash) return { problem: `the key ${clash} is the grammar's own: write survey=, q= and a= (see docs/events.md)` };
  const answer = answerOf(fields, pickerChoice(params));
  if (answer !== undefined && typeof answer === 'object' && !Array.isArray(answer)) return answer;
  return {
    type: 'survey_answered',
    properties: { ...extras, survey, question, ...(answer !== undefined ? { answer } : {}) },
  };
}

/**
 * What a postback becomes: a survey answer (data with survey= and q=), a plain postback
 * (its keys as properties, the picker's params under params), or a problem naming the key
 * (the webhook records the tap set aside with it).
 */
export function parsePostback(data: string, params?: Record<string, unknown>): PostbackEvent | { problem: string } {
  const fields = fieldsOf(data);
  if (fields.has(SURVEY_KEYS.survey) && fields.has(SURVEY_KEYS.question)) return surveyEvent(fields, params);
  const properties = extrasOf(fields, []);
  if (params && Object.keys(params).length) {
    if (Object.hasOwn(properties, 'params')) return { problem: "the key params is the picker's own: rename it" };
    properties.params = params;
  }
  return { type: 'postback', properties };
}

const enc = (value: string) => encodeURIComponent(value);

/** A separator that occurs in none of the items, for a list of fewer than two. */
function separatorFor(items: string[]): string | undefined {
  return SEPARATOR_CANDIDATES.find((c) => items.every((item) => !item.includes(c)));
}

/**
 * The postback data for a survey button: the inverse of parsePostback (a list of two or
 * more as repeated a=, a shorter list with sep=). Throws when the question id breaks the rule
 * or the data would be longer than LINE's 300 characters.
 */
export function encodeSurveyAnswer(tap: SurveyTap): string {
  if (!QUESTION_ID.test(tap.question)) throw new Error('the question id must be 1 to 64 letters, digits or _');
  if (!tap.survey) throw new Error('the survey id must not be empty');
  let data = `${SURVEY_KEYS.survey}=${enc(tap.survey)}&${SURVEY_KEYS.question}=${tap.question}`;
  const { answer } = tap;
  if (typeof answer === 'string') data += `&${SURVEY_KEYS.answer}=${enc(answer)}`;
  else if (Array.isArray(answer) && answer.length >= 2)
    data += answer.map((item) => `&${SURVEY_KEYS.answer}=${enc(item)}`).join('');
  else if (Array.isArray(answer)) {
    const sep = separatorFor(answer);
    if (sep === undefined) throw new Error('no separator fits this answer: give it as a list of two or more');
    data +=
      answer.map((item) => `&${SURVEY_KEYS.answer}=${enc(item)}`).join('') + `&${SURVEY_KEYS.separator}=${enc(sep)}`;
  }
  if (data.length > MAX_POSTBACK_DATA_CHARS) {
    throw new Error(`the postback data is ${data.length} characters; LINE takes at most ${MAX_POSTBACK_DATA_CHARS}`);
  }
  return data;
}
