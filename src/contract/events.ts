// One event contract for Node (the CLI import, test-send, anything that writes or reads
// public.events): zod schemas over the rules of ./event-rules.ts, which the Deno edge
// functions get as a generated copy. The schemas give the types the engine reads; every
// verdict comes from the rules, so the two cannot drift (test/contract/sql-agrees.test.ts
// also holds them to the engine's SQL).
import { z } from 'zod';
import {
  EVENT_TYPE,
  LINE_USER_ID,
  MAX_ID_CHARS,
  MAX_NUMERIC_MEMBER_ID,
  factProblem,
  jsonSizeProblem,
  parseOccurredAt,
  propertiesProblem,
  stringProblem,
} from './event-rules.js';

export { EVENT_TYPE, FACT_TYPES, LINE_USER_ID, type FactType } from './event-rules.js';

const stringFit = (value: string, ctx: z.RefinementCtx) => {
  const problem = stringProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

const USER_ID_RULE = 'must be "U" and 32 lowercase hex digits';
const TYPE_RULE = 'must be lower snake case, like cart_abandoned';
export const LineUserId = z.string({ error: USER_ID_RULE }).regex(LINE_USER_ID, { error: USER_ID_RULE });
export const EventType = z.string({ error: TYPE_RULE }).regex(EVENT_TYPE, { error: TYPE_RULE });
/** The shop's member id: a string of 1 to 200 characters, or a whole number. */
const MEMBER_ID_RULE = `must be a string of 1 to ${MAX_ID_CHARS} characters or a whole number`;
export const MemberId = z.union(
  [
    z.string().min(1, { error: MEMBER_ID_RULE }).max(MAX_ID_CHARS, { error: MEMBER_ID_RULE }).superRefine(stringFit),
    z
      .int({ error: MEMBER_ID_RULE })
      .min(-MAX_NUMERIC_MEMBER_ID, { error: MEMBER_ID_RULE })
      .max(MAX_NUMERIC_MEMBER_ID, { error: MEMBER_ID_RULE }),
  ],
  { error: MEMBER_ID_RULE },
);
const KEY_RULE = `must be a string of 1 to ${MAX_ID_CHARS} characters`;
export const IdempotencyKey = z
  .string({ error: KEY_RULE })
  .min(1, { error: KEY_RULE })
  .max(MAX_ID_CHARS, { error: KEY_RULE })
  .superRefine(stringFit);

/** occurred_at: an ISO date string with a time zone, from 2000-01-01 to a day after `now`; parsed to ms. */
export function occurredAt(now: number) {
  return z.unknown().transform((value, ctx) => {
    const parsed = parseOccurredAt(value, now, '');
    if (typeof parsed === 'number') return parsed;
    ctx.addIssue({ code: 'custom', message: parsed.trimStart() });
    return z.NEVER;
  });
}

/** What a user fact holds: a string, a number, true/false, null, or a list of those (tags). */
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const FactValue = z.union([Scalar, z.array(Scalar)]);
export type FactValue = z.infer<typeof FactValue>;

// The properties the engine reads for each type that changes a user record (other keys
// pass through: scenarios filter on them and fill placeholders from them).
export const FollowProperties = z.looseObject({
  /** The follow route (a LINE ad, a QR code) that scenarios can filter on. */
  route: z.union([z.string(), z.number()]).nullish(),
  /** true when the user unblocked the account rather than added it. */
  unblocked: z.boolean().nullish(),
});
export const AccountLinkedProperties = z.looseObject({
  memberId: z.union([
    z
      .string()
      .max(MAX_ID_CHARS)
      .refine((id) => !/^ *$/.test(id)),
    z.int().min(-MAX_NUMERIC_MEMBER_ID).max(MAX_NUMERIC_MEMBER_ID),
  ]),
});
const AttributeFields = {
  linked: z.boolean().nullish(),
  /** An IANA zone like Asia/Tokyo: the user's own time for windows and local times. */
  timezone: z.string().nullish(),
};
const Attributes = z.object(AttributeFields).catchall(FactValue);
/** Attributes in an `attributes` object, or (without one) the properties themselves. */
export const ProfileUpdatedProperties = z.union([
  z.looseObject({ attributes: Attributes }),
  z.object({ ...AttributeFields, attributes: z.never().optional() }).catchall(FactValue),
]);
export const SurveyAnsweredProperties = z.union([
  z.looseObject({
    question: z.union([z.string().refine((q) => !/^ *$/.test(q)), z.number()]),
    answer: FactValue.optional(),
    survey: z.union([z.string(), z.number()]).nullish(),
  }),
  /** Without a question it records no answer and only routes (a shop's own survey). */
  z.looseObject({ question: z.null().optional() }),
]);
export const ListAddedProperties = z.looseObject({ list: z.union([z.string(), z.number()]) });

/** The schema of the properties of each type the engine folds into the user record. */
export const FACT_PROPERTIES = {
  follow: FollowProperties,
  account_linked: AccountLinkedProperties,
  profile_updated: ProfileUpdatedProperties,
  survey_answered: SurveyAnsweredProperties,
  list_added: ListAddedProperties,
} as const;
export type FollowProperties = z.infer<typeof FollowProperties>;
export type AccountLinkedProperties = z.infer<typeof AccountLinkedProperties>;
export type ProfileUpdatedProperties = z.infer<typeof ProfileUpdatedProperties>;
export type SurveyAnsweredProperties = z.infer<typeof SurveyAnsweredProperties>;
export type ListAddedProperties = z.infer<typeof ListAddedProperties>;

/** Properties: a JSON object within the bounds of one event (depth, keys, strings, bytes). */
export const Properties = z
  .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
  .superRefine((value, ctx) => {
    const problem = propertiesProblem(value, 'properties') ?? jsonSizeProblem(value, 'properties');
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [], params: { whole: true } });
  });

/** One row for public.events, checked as ingest will check it; occurred_at parsed to ms. */
export function eventSchema(now: number) {
  return z
    .object({
      type: EventType,
      line_user_id: LineUserId.nullish(),
      member_id: MemberId.nullish(),
      occurred_at: occurredAt(now).optional(),
      properties: Properties.default({}),
      idempotency_key: IdempotencyKey.optional(),
    })
    .superRefine((event, ctx) => {
      if (!event.line_user_id && (event.member_id === undefined || event.member_id === null)) {
        ctx.addIssue({ code: 'custom', message: 'give line_user_id or member_id', path: [], params: { whole: true } });
      }
      const fact = factProblem(event.type, event.properties);
      if (fact) ctx.addIssue({ code: 'custom', message: fact, path: [], params: { whole: true } });
    });
}
export type EventInput = z.input<ReturnType<typeof eventSchema>>;
export type CheckedEvent = z.output<ReturnType<typeof eventSchema>>;

/** An issue as one sentence: its JSON path (under `at`, like "events[3]"), then what is wrong. */
function describe(issue: z.core.$ZodIssue, at: string): string {
  const path = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  const where = `${at}${path}`.replace(/^\./, '');
  const whole = issue.code === 'custom' && (issue as { params?: { whole?: boolean } }).params?.whole;
  // A message that names its own path ("properties.x ...") or the whole event ("list_added: ...").
  if (whole && at) return issue.message.startsWith('properties') ? `${at}.${issue.message}` : `${at}: ${issue.message}`;
  if (whole) return issue.message;
  return where ? `${where} ${issue.message}` : issue.message;
}

/** Checks one event: the event with occurred_at in ms, or the first problem (naming its path, never a value). */
export function checkEvent(value: unknown, now: number, at = ''): { event: CheckedEvent } | { problem: string } {
  const result = eventSchema(now).safeParse(value);
  if (result.success) return { event: result.data };
  return { problem: describe(result.error.issues[0]!, at) };
}
