// The scenario language: one zod schema is the source of the TypeScript types,
// the validation and the generated JSON Schema (scenarios/scenario.schema.json).
// Rules that span several fields (graph checks, placeholders) live in graph.ts.
import { z } from 'zod';
import { LINE_LIMITS } from '../contract/line-limits.js';
import { MessageSchema } from './messages.js';
import { EVENT_TYPE } from '../contract/event-rules.js';
import { attributeNameProblem, ENGINE_ATTRIBUTES, UNSTORABLE_NAMES } from '../contract/names.js';

export const STEP_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,47}$/;
export const END = 'end';

const EventName = z
  .string()
  .regex(EVENT_TYPE, {
    message: 'an event name is lower snake case, like "cart_abandoned"',
  })
  .describe('An event type, in lower snake case: friend_added, cart_abandoned, purchased, ...');

const LocalTime = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { message: 'a time of day is written "HH:MM", 00:00 to 23:59' })
  .describe('A local time of day, "HH:MM" (24-hour clock).');

export const DurationSchema = z
  .strictObject({
    days: z.int().min(0).max(3650).optional(),
    hours: z.int().min(0).max(87600).optional(),
    minutes: z.int().min(0).max(5256000).optional(),
  })
  .describe('A length of time, e.g. {"days": 3} or {"hours": 1, "minutes": 30}.')
  .meta({ id: 'Duration' });

export const StepRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, { message: 'a step reference is a step id or "end"' })
  .describe('The id of a step of this scenario, or "end" to finish the enrollment.')
  .meta({ id: 'StepRef' });

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** One comparison; exactly one operator is given (checked in graph.ts for a clear message). */
export const ComparisonSchema = z.strictObject({
  eq: Scalar.optional(),
  ne: Scalar.optional(),
  in: z.array(Scalar).min(1).optional(),
  notIn: z.array(Scalar).min(1).optional(),
  gt: z.union([z.number(), z.string()]).optional(),
  gte: z.union([z.number(), z.string()]).optional(),
  lt: z.union([z.number(), z.string()]).optional(),
  lte: z.union([z.number(), z.string()]).optional(),
  exists: z.boolean().optional(),
  contains: Scalar.optional(),
});
export const COMPARISON_OPERATORS = [
  'eq',
  'ne',
  'in',
  'notIn',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'contains',
] as const;

/** Property filter on an event: {"category": "shoes", "total": {"gte": 3000}}. A bare value means eq. */
export const PropertyFilterSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.]{1,64}$/), z.union([Scalar, ComparisonSchema]))
  .describe('Conditions on the event\'s properties: a value means "equals", an object names an operator.')
  .meta({ id: 'PropertyFilter' });

const FIELD_PATTERN = /^(user|answers|trigger)\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;
/** entry.key: a property of the trigger event. */
export const ENTRY_KEY_PATTERN = /^trigger\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

export const FieldConditionSchema = ComparisonSchema.extend({
  field: z
    .string()
    .regex(FIELD_PATTERN, {
      message: 'a field is "user.<attribute>", "answers.<question>" or "trigger.<property>", e.g. "user.gender"',
    })
    .describe(
      'user.<attribute> (gender, ageBand, os, region, tags, linked, ...), answers.<question> or trigger.<property>.',
    ),
});

export const EventConditionSchema = z.strictObject({
  event: EventName,
  where: PropertyFilterSchema.optional(),
  since: z
    .enum(['entry', 'previous'])
    .optional()
    .describe('Count events since the enrollment began (default) or since the previous step.'),
  atLeast: z
    .int()
    .min(1)
    .optional()
    .describe('How many matching events are needed (default 1). For "none", wrap it in "not".'),
});

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | z.infer<typeof FieldConditionSchema>
  | z.infer<typeof EventConditionSchema>;

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z
    .union([
      z.strictObject({ all: z.array(ConditionSchema).min(1) }),
      z.strictObject({ any: z.array(ConditionSchema).min(1) }),
      z.strictObject({ not: ConditionSchema }),
      FieldConditionSchema,
      EventConditionSchema,
    ])
    .meta({ id: 'Condition' }),
);

export const TimingSchema = z
  .strictObject({
    after: DurationSchema.optional().describe('Wait this long after the reference moment.'),
    before: DurationSchema.optional().describe(
      'Go this long before the reference date (needs "from": "trigger.<date>").',
    ),
    from: z
      .string()
      .regex(/^(previous|entry|trigger\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)$/, {
        message: 'from is "previous", "entry" or "trigger.<date property>"',
      })
      .optional()
      .describe(
        'The reference moment: the previous step (default), the entry, or a date carried by the trigger event.',
      ),
    at: LocalTime.optional().describe('Then go at this local time of day, e.g. "3 days later at 10:00".'),
  })
  .describe('When the step happens, relative to the previous step, the entry or a date of the trigger.');

export const SendWindowSchema = z
  .strictObject({
    start: LocalTime,
    end: LocalTime,
    days: z
      .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
      .min(1)
      .optional()
      .describe('Days of the week on which sending is allowed (default: every day).'),
  })
  .describe('Messages go out only between start and end, local time; a step due outside waits for the next opening.')
  .meta({ id: 'SendWindow' });

const StepBase = {
  id: z.string().regex(STEP_ID_PATTERN, {
    message: 'a step id is 1-48 lower-case letters, digits, "-" or "_", starting with a letter or digit',
  }),
  name: z.string().max(200).optional(),
  wait: TimingSchema.optional(),
  expireAfter: DurationSchema.optional().describe(
    'If the step cannot go out within this time of its moment (a late tick, a send window), it is skipped.',
  ),
};

export const MessageStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('message'),
  messages: z
    .array(MessageSchema)
    .min(1, { message: 'a message step sends at least one message' })
    .max(LINE_LIMITS.messagesPerRequest, {
      message: `LINE accepts at most ${LINE_LIMITS.messagesPerRequest} message objects per request: split this step in two`,
    }),
  links: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      z
        .string()
        .regex(/^https:\/\//, { message: 'a tracked link goes to an https:// URL' })
        .max(1000),
    )
    .optional()
    .describe(
      'Tracked links: {"coupon": "https://..."}; write {{link.coupon}} in a message, and a click is recorded (event "clicked", link "coupon").',
    ),
  fallbacks: z
    .record(z.string(), z.string())
    .optional()
    .describe('Text used for a placeholder whose value is missing, e.g. {"trigger.productName": "the item"}.'),
  aggregationUnit: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,30}$/, { message: 'an aggregation unit is 1-30 characters of A-Z, a-z, 0-9 and _' })
    .optional()
    .describe(
      "LINE's customAggregationUnits name for this step's statistics (default: derived from scenario and step ids).",
    ),
  sendWindow: z
    .union([SendWindowSchema, z.null()])
    .optional()
    .describe('Overrides the scenario send window; null sends at any hour.'),
  reply: z
    .literal(true)
    .optional()
    .describe(
      'The first step of a follow-triggered scenario, due at once: the LINE webhook sends it as the reply to the follow (free: replies are not counted against the monthly quota); when the reply cannot go, the tick pushes it. See docs/reply.md.',
    ),
  next: StepRefSchema.optional(),
});

export const BranchStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('branch'),
  branches: z
    .array(z.strictObject({ name: z.string().max(100).optional(), when: ConditionSchema, next: StepRefSchema }))
    .min(1),
  default: StepRefSchema.optional().describe('Where users go when no branch matches.'),
});

export const SplitStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('split'),
  salt: z.string().max(64).optional().describe('Change it to reshuffle users between arms in a new experiment.'),
  arms: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
        weight: z.number().positive(),
        next: StepRefSchema,
      }),
    )
    .min(2, { message: 'a split has at least two arms' }),
});

export const WaitStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('wait'),
  for: z.strictObject({ event: EventName, where: PropertyFilterSchema.optional() }),
  timeout: DurationSchema,
  next: StepRefSchema.optional().describe('Where to go as soon as the event happens (default: the next step).'),
  onTimeout: StepRefSchema.describe('Where to go when the event did not happen within the timeout.'),
});

/** LINE's rich menu id: "richmenu-" and 32 lower-case hex digits. */
export const RICH_MENU_ID_PATTERN = /^richmenu-[0-9a-f]{32}$/;
/** LINE's alias id (RichMenuAliasRequest.richMenuAliasId in the Messaging API's OpenAPI file). */
export const RICH_MENU_ALIAS_PATTERN = /^[a-z0-9_-]{1,32}$/;
/** An attribute an action step may set or clear: a plain identifier. */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Attributes the engine owns (src/contract/names.ts, read by the planner too). */
export const RESERVED_ATTRIBUTES = ENGINE_ATTRIBUTES;
/**
 * What one step may do, checked at validation (a real scenario never comes near):
 * tagsPerList tags in "add" and in "remove"; changesPerStep tags, attributes and a rich
 * menu in all, each of which writes one event per user (tag_added, attribute_set, ...);
 * attributeValueLength characters in one value and attributeCharsPerStep in all the values
 * a step sets. tagsPerUser is checked when the step runs (only a step that grows the list
 * past it fails).
 */
export const LIMITS = {
  tagLength: 50,
  tagsPerList: 20,
  tagsPerUser: 100,
  attributeValueLength: 1000,
  changesPerStep: 50,
  attributeCharsPerStep: 10_000,
} as const;

export const TagSchema = z
  .string()
  .min(1, { message: 'a tag is 1-50 characters: remove the empty tag' })
  .max(LIMITS.tagLength, { message: `a tag is at most ${LIMITS.tagLength} characters: shorten it` })
  .regex(/^\P{Cc}*$/u, { message: 'a tag has no control characters (tab, line break, ...): remove them' })
  .describe('A tag of the user, 1-50 characters, e.g. "vip".');

const TagList = z
  .array(TagSchema)
  .min(1, { message: 'name at least one tag, or remove the empty list' })
  .max(LIMITS.tagsPerList, { message: `at most ${LIMITS.tagsPerList} tags per list: split the step in two` });

export const AttributeNameSchema = z
  .string()
  .regex(ATTRIBUTE_NAME_PATTERN, {
    message: 'an attribute name is a plain identifier: letters, digits and "_", not starting with a digit, e.g. "plan"',
  })
  // A pattern rather than a refinement, so that the JSON Schema (and an editor) knows it too.
  .regex(new RegExp(`^(?!(?:${RESERVED_ATTRIBUTES.join('|')})$)`), {
    message: attributeNameProblem(RESERVED_ATTRIBUTES[0])!,
  })
  .regex(new RegExp(`^(?!(?:${UNSTORABLE_NAMES.join('|')})$)`), {
    message: attributeNameProblem(UNSTORABLE_NAMES[0])!,
  });

const AttributeValue = z.union([
  z.string().max(LIMITS.attributeValueLength, {
    message: `an attribute value is at most ${LIMITS.attributeValueLength} characters`,
  }),
  z.number(),
  z.boolean(),
]);

export const RichMenuActionSchema = z
  .union([
    z.strictObject({
      id: z
        .string()
        .regex(RICH_MENU_ID_PATTERN, { message: 'a rich menu id is "richmenu-" and 32 lower-case hex digits' })
        .describe('A rich menu id, "richmenu-" and 32 hex digits.'),
    }),
    z.strictObject({
      alias: z
        .string()
        .regex(RICH_MENU_ALIAS_PATTERN, {
          message: 'a rich menu alias id is 1-32 characters of a-z, 0-9, "-" and "_" (LINE\'s rule)',
        })
        .describe("A rich menu alias id, as created with LINE's alias API."),
    }),
    z.strictObject({ unlink: z.literal(true).describe("Unlink the user's own rich menu (the default menu shows).") }),
  ])
  .describe("Link a rich menu to the user, by id or by alias, or unlink the user's rich menu.")
  .meta({ id: 'RichMenuAction' });

/**
 * Bounds of "increment" (scores): one step adds at most `step` either way, and the stored
 * number stays within `stored` either way (past it the step fails for that user), so a
 * score is always an exact integer-safe number however many steps add to it.
 */
export const SCORE_BOUNDS = { step: 1_000_000, stored: 1_000_000_000 } as const;

export const ActionStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('action'),
  tags: z
    .strictObject({ add: TagList.optional(), remove: TagList.optional() })
    .optional()
    .describe('Tags to add to or remove from the user; a later condition on user.tags sees them.'),
  attributes: z
    .strictObject({
      set: z.record(AttributeNameSchema, AttributeValue).optional(),
      clear: z
        .array(AttributeNameSchema)
        .min(1, { message: 'name at least one attribute, or remove "clear"' })
        .optional(),
      increment: z
        .record(
          AttributeNameSchema,
          z.number().refine((n) => Number.isInteger(n) && n !== 0 && Math.abs(n) <= SCORE_BOUNDS.step, {
            message: `an increment is a whole number other than 0, from -${SCORE_BOUNDS.step.toLocaleString('en')} to ${SCORE_BOUNDS.step.toLocaleString('en')} (e.g. 5, or -5 to subtract)`,
          }),
        )
        .optional()
        .describe(
          'Numbers to add to attributes (negative to subtract), e.g. {"score": 5}: an attribute not set counts as 0; one that holds something else than a number fails the step for that user. A later condition on user.<attribute> sees the sum.',
        ),
    })
    .optional()
    .describe('Attributes of the user to set, clear or add to; a later condition on user.<attribute> sees them.'),
  richMenu: RichMenuActionSchema.optional(),
  next: StepRefSchema.optional(),
});

export const StepSchema = z.discriminatedUnion('type', [
  MessageStepSchema,
  BranchStepSchema,
  SplitStepSchema,
  WaitStepSchema,
  ActionStepSchema,
]);

export const TriggerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('follow'),
    route: z
      .union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).min(1)])
      .optional()
      .describe('Only friends added through this route (a QR code, an ad, a web popup), as recorded by the webhook.'),
    includeUnblocked: z.boolean().optional().describe('Also enroll users who unblock the account (default false).'),
  }),
  z.strictObject({ type: z.literal('event'), event: EventName, where: PropertyFilterSchema.optional() }),
  z.strictObject({
    type: z.literal('list'),
    list: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .describe('The list name given when the CSV was imported.'),
  }),
  z.strictObject({
    type: z.literal('audience'),
    condition: ConditionSchema.describe(
      'Enrolls a user when their attributes come to match (checked on profile_updated events).',
    ),
  }),
]);

export const ExitRuleSchema = z.strictObject({ event: EventName, where: PropertyFilterSchema.optional() });

export const ScenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, {
      message: 'a scenario id is 1-48 lower-case letters, digits, "-" or "_"',
    }),
    version: z
      .int()
      .min(1)
      .max(2_147_483_647, {
        message: 'a version is a whole number from 1 to 2147483647 (the store keeps it as a 32-bit integer)',
      })
      .describe('Raise it when you change the scenario; it is shown in reports.'),
    name: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    status: z
      .enum(['active', 'paused', 'retired'])
      .optional()
      .describe(
        'paused: no one enters and nothing is sent until active again. retired: ends every enrollment ("the scenario was retired") and no one enters; retire a scenario before removing its file.',
      ),
    timezone: z.string().optional().describe('IANA time zone for times of day and send windows (default Asia/Tokyo).'),
    priority: z
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('Under a frequency cap, higher priority goes first (default 50).'),
    entry: z.strictObject({
      trigger: TriggerSchema,
      audience: ConditionSchema.optional().describe('Only users matching this condition enter.'),
      key: z
        .string()
        .regex(ENTRY_KEY_PATTERN, {
          message: 'an enrollment key is "trigger.<property>", e.g. "trigger.reservationId"',
        })
        .optional()
        .describe(
          'One enrollment per user and value of this trigger property (a reservation or shipment id), each on its own clock. ' +
            'A later trigger with the same value updates that enrollment (a moved booking re-times its reminder); with reentry "restart" it starts it over. ' +
            'Exit rules and wait steps then count only events with the same value, or without the property.',
        ),
    }),
    reentry: z
      .enum(['once', 'after_finish', 'restart'])
      .optional()
      .describe(
        'once (default): never again; after_finish: again once the last enrollment ended; restart: a new trigger starts over.',
      ),
    sendWindow: SendWindowSchema.optional(),
    catchUp: z
      .enum(['one_per_tick', 'together'])
      .optional()
      .describe('When a tick is late and several steps are due: send one per tick (default), or all of them together.'),
    exit: z.array(ExitRuleSchema).optional().describe('Events that end the enrollment (an unfollow always does).'),
    goal: z
      .strictObject({
        event: EventName,
        where: PropertyFilterSchema.optional(),
        within: DurationSchema.optional().describe('Counts only if it happens within this time of entry.'),
        exit: z.boolean().optional().describe('Reaching the goal ends the enrollment (default true).'),
      })
      .optional(),
    holdout: z
      .strictObject({
        percent: z
          .number()
          .gt(0, { message: 'a holdout percent is more than 0 and at most 50' })
          .max(50, { message: 'a holdout percent is more than 0 and at most 50' })
          .describe(
            'The share of users who enter (0 < percent <= 50) that is held out: enrolled, followed to the goal, sent nothing.',
          ),
        salt: z
          .string()
          .max(64)
          .optional()
          .describe('Change it to draw a new holdout group; users keep their group while it stays the same.'),
      })
      .optional()
      .describe(
        'A holdout group to measure what the scenario earns: the report compares the conversion of the treated and of the held out. See docs/measuring.md.',
      ),
    activation: z
      .strictObject({
        backfillFrom: z.iso
          .datetime({ offset: true })
          .optional()
          .describe(
            'Also enroll from events since this moment; by default only events after the scenario first runs count.',
          ),
      })
      .optional(),
    onStepRemoved: z
      .enum(['continue', 'end'])
      .optional()
      .describe(
        'When an edit removes the step a user waits for: continue at the next remaining step (default), or end.',
      ),
    steps: z.array(StepSchema).min(1, { message: 'a scenario has at least one step' }),
  })
  .describe('A LINE step-delivery scenario.');

export type Duration = z.infer<typeof DurationSchema>;
export type Timing = z.infer<typeof TimingSchema>;
export type SendWindow = z.infer<typeof SendWindowSchema>;
export type PropertyFilter = z.infer<typeof PropertyFilterSchema>;
export type Comparison = z.infer<typeof ComparisonSchema>;
export type FieldCondition = z.infer<typeof FieldConditionSchema>;
export type EventCondition = z.infer<typeof EventConditionSchema>;
export type MessageStep = z.infer<typeof MessageStepSchema>;
export type BranchStep = z.infer<typeof BranchStepSchema>;
export type SplitStep = z.infer<typeof SplitStepSchema>;
export type WaitStep = z.infer<typeof WaitStepSchema>;
export type ActionStep = z.infer<typeof ActionStepSchema>;
export type RichMenuAction = z.infer<typeof RichMenuActionSchema>;
export type TagChanges = NonNullable<ActionStep['tags']>;
export type AttributeChanges = NonNullable<ActionStep['attributes']>;
export type Step = z.infer<typeof StepSchema>;
export type Trigger = z.infer<typeof TriggerSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;

export const DEFAULT_TIMEZONE = 'Asia/Tokyo';
export const DEFAULT_PRIORITY = 50;
