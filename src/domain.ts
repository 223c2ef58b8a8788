// The store port's vocabulary: what the tick, the sender and the CLI hand to the store and
// get back from it, in the program's own words (camelCase, a LINE user id is a userId).
// The SQL functions' snake_case rows stay inside src/store, which maps each type here to
// and from its row (src/store/rows.ts); nothing else sees a row.
import type { Message } from './scenario/messages.js';
import type { EnrollmentSummary } from './planner/route.js';
import type { EnrollmentState, EventFact, UserFacts } from './planner/types.js';

export interface ScenarioRegistration {
  id: string;
  hash: string;
  version: number;
  definition: unknown;
}

/** Registration's answer: each scenario's first run, and the registered ones with no file. */
export interface Registration {
  scenarios: { id: string; activatedAt: number }[];
  rescheduled: number;
  /** No file and not retired: held; events are still routed by the last definition. */
  missing: { id: string; hash: string; definition: unknown; activatedAt: number; usersInside: number }[];
  /** Retired, no file, users still inside: the tick ends their enrollments. */
  retiredAbsent: { id: string; usersInside: number }[];
}

/** An event of a page, with its user's facts around it when it changed the user record. */
export interface IngestEvent extends EventFact {
  userId: string;
  factsBefore?: UserFacts | undefined;
  factsAfter?: UserFacts | undefined;
}

export interface IngestPage {
  /**
   * An event that changed the user record carries the user's facts after it (and the user's
   * first such event, the facts before it), so routing can see each event's user as of that
   * event: facts a later event of the page changes are not known to an earlier one.
   */
  events: IngestEvent[];
  users: Map<string, UserFacts>;
  enrollments: (EnrollmentSummary & { userId: string })[];
  /** Events of this page set aside: they could not be applied (events.status_reason says why). */
  setAside: number;
  /** How many were set aside for each reason (reasons name keys and types, never a value). */
  setAsideReasons: Map<string, number>;
  waitingLink: number;
  /** Another page may be waiting (this one was full, or cut short by its byte bound). */
  more: boolean;
}

/** An event that routing could not handle: set aside with the reason instead of marked done. */
export interface SetAsideEvent {
  id: string;
  reason: string;
}

/** A new enrollment of an ingest page (exited already when a later event of the page ended it). */
export interface NewEnrollment {
  scenarioId: string;
  userId: string;
  stepId: string;
  enteredAt: number;
  trigger: Record<string, unknown>;
  triggerEventId: string;
  scenarioHash: string;
  /** The entry.key value (null: the scenario has no key). */
  key: string | null;
  status?: 'exited' | undefined;
  exitReason?: string | undefined;
  convertedAt?: number | undefined;
}

export interface EnrollmentExit {
  enrollmentId: string;
  reason: string;
  convertedAt?: number | undefined;
}

/** An active keyed enrollment whose key came again: its trigger is replaced, and it is planned again now. */
export interface TriggerUpdate {
  enrollmentId: string;
  trigger: Record<string, unknown>;
  triggerEventId: string;
}

/** What one routed page of events changes, committed in one transaction. */
export interface IngestCommit {
  now: number;
  owner: string;
  done: string[];
  enroll: NewEnrollment[];
  exit: EnrollmentExit[];
  wake: string[];
  update?: TriggerUpdate[] | undefined;
  setAside?: SetAsideEvent[] | undefined;
}

export interface ClaimedEnrollment extends EnrollmentState {
  userId: string;
}

export interface DuePage {
  enrollments: ClaimedEnrollment[];
  users: Map<string, UserFacts>;
  eventsByUser: Map<string, EventFact[]>;
  previousDefinitions: { scenarioId: string; hash: string; definition: unknown }[];
  /** Sends per user since capSince (only when asked). */
  sentCounts: Map<string, number>;
}

/** An enrollment after planning: where it stands, written back by the commit. */
export interface PlanCommit {
  id: string;
  status: 'active' | 'finished' | 'exited';
  stepId: string;
  previousAt: number;
  waitStartedAt: number | null;
  waitingFor: string | null;
  /** null while active means "not until the scenario changes" (paused). */
  dueAt: number | null;
  scenarioHash: string;
  convertedAt: number | null;
  exitReason: string | null;
  /** The action steps this plan did, applied by the commit (issue 18). */
  acts?: ActDraft[] | undefined;
}

/** A step that was not sent: expired (past its window) or failed (with why). */
export interface SkippedStep {
  enrollmentId: string;
  scenarioId: string;
  stepId: string;
  userId: string;
  /** holdout: the user is in the scenario's holdout group, and nothing was sent (docs/measuring.md). */
  kind: 'expire' | 'fail' | 'holdout';
  dueAt: number;
  reason: string;
}

/** Outbox kinds that change the user's rich menu (issue 18) instead of sending messages. */
export type RichMenuKind = 'richmenu_link' | 'richmenu_unlink';

/**
 * What a rich menu batch does, kept in the batch's messages column (one element), so the
 * claim returns it and identical batches of a step merge as messages do.
 */
export type RichMenuPayload =
  { type: 'richmenu'; richMenuId: string } | { type: 'richmenu'; alias: string } | { type: 'richmenu'; unlink: true };

/** One recipient of a planned batch: the enrollment whose step it is. */
export interface BatchMember {
  enrollmentId: string;
  userId: string;
  dueAt: number;
}

interface BatchDraftBase {
  /** UUID: the X-Line-Retry-Key (rich menu requests have none: see src/line/rich-menu.ts). */
  id: string;
  scenarioId: string;
  stepId: string;
  /** LINE's customAggregationUnits name (null: a rich menu batch, which has none). */
  aggregationUnit: string | null;
  members: BatchMember[];
}

/** A batch planned for the outbox, committed with the plans of its page. */
export type BatchDraft =
  | (BatchDraftBase & { kind: 'push' | 'multicast'; messages: Message[] })
  | (BatchDraftBase & { kind: RichMenuKind; messages: RichMenuPayload[] });

/**
 * An action step's change of one enrollment's user, applied by the commit to line_users in
 * the transaction that advances the enrollment (once: a replay changes nothing), with
 * tag_added, tag_removed, attribute_set and attribute_cleared events recorded.
 * batchId: the rich menu batch this step's recipient is in (its delivery is that batch's).
 */
export interface ActDraft {
  enrollmentId: string;
  scenarioId: string;
  stepId: string;
  userId: string;
  dueAt: number;
  tags: { add: string[]; remove: string[] };
  /** increment: numbers added to attributes (scores, docs/measuring.md), after set and clear. */
  attributes: {
    set: Record<string, string | number | boolean>;
    clear: string[];
    increment?: Record<string, number> | undefined;
  };
  batchId: string | null;
}

/** One planned page, committed in one transaction. */
export interface PlansCommit {
  now: number;
  owner: string;
  plans: PlanCommit[];
  skipped: SkippedStep[];
  batches: BatchDraft[];
}

/** Recipients dropped from pending batches because they left before it was sent. */
export interface SkippedRecipients {
  scenarioId: string;
  stepId: string;
  reason: string;
  count: number;
}

/** An event of a recipient of a claimed batch, of a type its scenario exits on. */
export interface ExitEvent extends Omit<EventFact, 'id'> {
  batchId: string;
  userId: string;
  /** The entry.key value of the recipient's enrollment (undefined: none). */
  enrollmentKey?: string | undefined;
}

/** A claimed outbox batch of messages: one LINE request (a push, or a multicast of up to 500). */
export interface OutboxBatch {
  id: string;
  scenarioId: string;
  stepId: string;
  kind: 'push' | 'multicast';
  messages: Message[];
  recipients: string[];
  aggregationUnit: string | null;
  attempts: number;
  createdAt: number;
}

/** A claimed batch that links or unlinks the recipients' rich menu. */
export interface RichMenuBatch extends Omit<OutboxBatch, 'kind' | 'messages'> {
  kind: RichMenuKind;
  messages: RichMenuPayload[];
}

export type ClaimedBatch = OutboxBatch | RichMenuBatch;

export function isRichMenuBatch(batch: ClaimedBatch): batch is RichMenuBatch {
  return batch.kind === 'richmenu_link' || batch.kind === 'richmenu_unlink';
}

/** A claim of the outbox: the batches leased, and what the claim found on the way. */
export interface BatchClaim {
  batches: ClaimedBatch[];
  /** Batches whose outcome is unknown past LINE's retry-key window: a person decides. */
  needsReview: number;
  skipped: SkippedRecipients[];
  exitEvents: ExitEvent[];
}

/** A recipient to take out of a claimed batch, with why. */
export interface RecipientDrop {
  batchId: string;
  userId: string;
  reason: string;
}

/** A claimed batch after drops: its recipients left, and whether it is still pending. */
export interface ChangedBatch {
  id: string;
  recipients: string[];
  kind: ClaimedBatch['kind'];
  status: string;
}

export type SendOutcome = 'sent' | 'failed' | 'deferred' | 'uncertain';

/** What LINE answered for one batch, recorded by the store. */
export interface SendResult {
  batchId: string;
  outcome: SendOutcome;
  requestId?: string | undefined;
  error?: unknown;
  /** When LINE accepted it (epoch ms): where the lateness of its steps ends. */
  acceptedAt?: number | undefined;
}

/** A run's heartbeat as started: the previous run, for the lateness check. */
export interface RunStarted {
  id: string;
  previousStartedAt: number | null;
  previousStatus: string | null;
}

/** What needs a person, as the run's end finds it (the job summary and the action's outputs). */
export interface Attention {
  /** Batches whose outcome is unknown past LINE's retry-key window. */
  needsReview: number;
  /** Events set aside in the last 7 days. */
  setAsideRecent: number;
  waitingLink: number;
  pendingBatches: number;
}

/** A new event for the events table (the CLI's import, the demo). */
export interface NewEvent {
  userId?: string | undefined;
  memberId?: string | undefined;
  type: string;
  properties: Record<string, unknown>;
  occurredAt?: number | undefined;
  source: string;
  idempotencyKey: string;
}

/** One step of one user: sent, skipped, expired, failed or acted. */
export interface Delivery {
  userId: string;
  scenarioId: string;
  stepId: string;
  /** act: an action step (its rich menu change is sent through the outbox); reply: sent as the reply to a follow (docs/reply.md). */
  kind: 'send' | 'expire' | 'fail' | 'act' | 'reply' | 'holdout';
  status: string;
  dueAt: number;
  sentAt: number | null;
  batchId: string | null;
  reason: string | null;
}

/** One user's story (the CLI's inspect, the demo): user data, shown only on the team's own terminal. */
export interface InspectStory {
  found: boolean;
  /** When not found: events waiting for this member id to be linked. */
  waitingLink?: number;
  user?: {
    userId: string;
    memberId: string | null;
    following: boolean | null;
    followedAt: number | null;
    unfollowedAt: number | null;
    followRoute: string | null;
    attributes: Record<string, unknown>;
    answers: Record<string, unknown>;
  };
  enrollments?: InspectEnrollment[];
  deliveries?: InspectDelivery[];
  events?: InspectEvent[];
  eventsTotal?: number;
}

export interface InspectEnrollment {
  id: string;
  scenarioId: string;
  status: 'active' | 'finished' | 'exited';
  stepId: string;
  enteredAt: number;
  previousAt: number;
  dueAt: number | null;
  dueNever: boolean | null;
  waitingFor: string | null;
  waitStartedAt: number | null;
  convertedAt: number | null;
  exitReason: string | null;
  endedAt: number | null;
  triggerEventId: string | null;
}

export interface InspectDelivery {
  enrollmentId: string;
  scenarioId: string;
  stepId: string;
  kind: 'send' | 'expire' | 'fail' | 'act' | 'reply' | 'holdout';
  status: string;
  reason: string | null;
  dueAt: number;
  createdAt: number;
  sentAt: number | null;
  batchId: string | null;
  batch: {
    kind: string;
    status: string;
    attempts: number;
    recipients: number;
    lineRequestId: string | null;
    error: unknown;
    aggregationUnit: string | null;
    sentAt: number | null;
  } | null;
}

export interface InspectEvent {
  id: string;
  type: string;
  occurredAt: number;
  status: string;
  statusReason: string | null;
  source: string;
  properties: Record<string, unknown>;
}

/** How late one day's sending ticks served (seconds from a step's moment to LINE's acceptance). */
export interface LatenessDay {
  /** YYYY-MM-DD in the zone asked for. */
  day: string;
  /** Sending ticks that day. */
  runs: number;
  /** Steps served (sent) that day. */
  served: number;
  /** Percentiles over the served steps: a bucket's upper edge (at most 5% over), never past max. */
  p50: number;
  p95: number;
  max: number;
}

/** The runs of a period and the Actions minutes they billed. */
export interface ActionsUsage {
  runs: number;
  /** Each run billed in whole minutes from its start to its end (at least one). */
  billedMinutes: number;
  /** Runs with no end recorded (still going, or crashed): counted up to now. */
  unfinished: number;
}
