// The SQL functions' rows (snake_case jsonb) and one small mapping per type between them
// and the store port's domain types (src/domain.ts). Only src/store sees these rows.
import type { EnrollmentSummary } from '../planner/route.js';
import type { EventFact, UserFacts } from '../planner/types.js';
import type { UnitDayStatistics } from './report-data.js';
import type {
  ActDraft,
  Attention,
  BatchDraft,
  ClaimedBatch,
  Delivery,
  DuePage,
  EnrollmentExit,
  InspectDelivery,
  InspectEnrollment,
  InspectEvent,
  InspectStory,
  ExitEvent,
  IngestPage,
  NewEnrollment,
  NewEvent,
  PlanCommit,
  SendResult,
  SkippedRecipients,
  SkippedStep,
  TriggerUpdate,
} from '../domain.js';

export interface UserRow {
  line_user_id: string;
  following: boolean;
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
}

export interface EventRow {
  id: string;
  line_user_id: string;
  type: string;
  occurred_at: number;
  properties: Record<string, unknown>;
  facts_before?: UserRow | null;
  facts_after?: UserRow | null;
}

export interface IngestAnswer {
  events: EventRow[];
  users: UserRow[];
  enrollments: {
    id: string;
    scenario_id: string;
    line_user_id: string;
    status: EnrollmentSummary['status'];
    entered_at: number;
    waiting_for: string | null;
    enrollment_key?: string | null;
  }[];
  set_aside: number;
  set_aside_reasons?: Record<string, number>;
  waiting_link: number;
  more?: boolean;
  last_id?: string | null;
}

export interface DueAnswer {
  enrollments: {
    id: string;
    scenario_id: string;
    line_user_id: string;
    step_id: string;
    entered_at: number;
    previous_at: number;
    wait_started_at: number | null;
    trigger: Record<string, unknown>;
    scenario_hash: string;
    converted: boolean;
    due_at?: number;
  }[];
  users: UserRow[];
  events: EventRow[];
  previous_definitions: { scenario_id: string; hash: string; definition: unknown }[];
  sent_counts: Record<string, number>;
}

export interface BatchRow {
  id: string;
  scenario_id: string;
  step_id: string;
  kind: ClaimedBatch['kind'];
  messages: ClaimedBatch['messages'];
  recipients: string[];
  aggregation_unit: string | null;
  attempts: number;
  created_at: number;
}

export interface SkippedRecipientsRow {
  scenario_id: string;
  step_id: string;
  reason: string;
  count: number | string;
}

export type ExitEventRow = Omit<EventRow, 'id'> & { batch_id: string; enrollment_key?: string | null };

export interface DeliveryRow {
  line_user_id: string;
  scenario_id: string;
  step_id: string;
  kind: Delivery['kind'];
  status: string;
  due_at: number;
  sent_at: number | null;
  batch_id: string | null;
  reason: string | null;
}

export const unitStatsRow = (s: UnitDayStatistics) => ({
  unit: s.unit,
  day: s.day,
  unique_impression: s.uniqueImpression,
  unique_click: s.uniqueClick,
  impression: s.impression,
  click: s.click,
  unique_media_played: s.uniqueMediaPlayed,
});

export interface AttentionRow {
  needs_review: number;
  set_aside_recent: number;
  waiting_link: number;
  pending_batches: number;
}

export const toAttention = (r: AttentionRow): Attention => ({
  needsReview: Number(r.needs_review),
  setAsideRecent: Number(r.set_aside_recent),
  waitingLink: Number(r.waiting_link),
  pendingBatches: Number(r.pending_batches),
});

const counts = (r: Record<string, number> | undefined) =>
  new Map(Object.entries(r ?? {}).map(([k, v]) => [k, Number(v)]));

export const toUser = (u: UserRow): UserFacts => ({
  userId: u.line_user_id,
  following: u.following,
  attributes: u.attributes ?? {},
  answers: u.answers ?? {},
});

const toEventFact = (e: EventRow): EventFact => ({
  id: e.id,
  type: e.type,
  occurredAt: Number(e.occurred_at),
  properties: e.properties ?? {},
});

export function toIngestPage(r: IngestAnswer, limit: number): IngestPage {
  return {
    events: r.events.map((e) => ({
      ...toEventFact(e),
      userId: e.line_user_id,
      ...(e.facts_before ? { factsBefore: toUser(e.facts_before) } : {}),
      ...(e.facts_after ? { factsAfter: toUser(e.facts_after) } : {}),
    })),
    users: new Map(r.users.map((u) => [u.line_user_id, toUser(u)])),
    enrollments: r.enrollments.map((e) => ({
      id: e.id,
      userId: e.line_user_id,
      scenarioId: e.scenario_id,
      status: e.status,
      enteredAt: Number(e.entered_at),
      waitingFor: e.waiting_for ?? undefined,
      key: e.enrollment_key ?? undefined,
    })),
    setAside: r.set_aside,
    setAsideReasons: counts(r.set_aside_reasons),
    waitingLink: r.waiting_link,
    // (A database without migration 20261126000001 has no byte bound: a short page was the last.)
    more: r.more ?? r.events.length + r.set_aside + r.waiting_link >= limit,
  };
}

export function toDuePage(r: DueAnswer): DuePage {
  const eventsByUser = new Map<string, EventFact[]>();
  for (const e of r.events) {
    let list = eventsByUser.get(e.line_user_id);
    if (!list) eventsByUser.set(e.line_user_id, (list = []));
    list.push(toEventFact(e));
  }
  return {
    enrollments: r.enrollments.map((e) => ({
      id: e.id,
      userId: e.line_user_id,
      scenarioId: e.scenario_id,
      scenarioHash: e.scenario_hash,
      enteredAt: Number(e.entered_at),
      trigger: e.trigger ?? {},
      stepId: e.step_id,
      previousAt: Number(e.previous_at),
      waitStartedAt: e.wait_started_at === null ? undefined : Number(e.wait_started_at),
      converted: e.converted,
    })),
    users: new Map(r.users.map((u) => [u.line_user_id, toUser(u)])),
    eventsByUser,
    previousDefinitions: r.previous_definitions.map((d) => ({
      scenarioId: d.scenario_id,
      hash: d.hash,
      definition: d.definition,
    })),
    sentCounts: counts(r.sent_counts),
  };
}

export const newEnrollmentRow = (e: NewEnrollment) => ({
  scenario_id: e.scenarioId,
  line_user_id: e.userId,
  step_id: e.stepId,
  entered_at: e.enteredAt,
  trigger: e.trigger,
  trigger_event_id: e.triggerEventId,
  scenario_hash: e.scenarioHash,
  enrollment_key: e.key,
  ...(e.status !== undefined ? { status: e.status } : {}),
  ...(e.exitReason !== undefined ? { exit_reason: e.exitReason } : {}),
  ...(e.convertedAt !== undefined ? { converted_at: e.convertedAt } : {}),
});

export const exitRow = (x: EnrollmentExit) => ({
  enrollment_id: x.enrollmentId,
  reason: x.reason,
  ...(x.convertedAt !== undefined ? { converted_at: x.convertedAt } : {}),
});

export const triggerUpdateRow = (u: TriggerUpdate) => ({
  enrollment_id: u.enrollmentId,
  trigger: u.trigger,
  trigger_event_id: u.triggerEventId,
});

export const actRow = (a: ActDraft) => ({
  enrollment_id: a.enrollmentId,
  scenario_id: a.scenarioId,
  step_id: a.stepId,
  line_user_id: a.userId,
  due_at: a.dueAt,
  tags: a.tags,
  attributes: a.attributes,
  batch_id: a.batchId,
});

export const planRow = (p: PlanCommit) => ({
  id: p.id,
  status: p.status,
  step_id: p.stepId,
  previous_at: p.previousAt,
  wait_started_at: p.waitStartedAt,
  waiting_for: p.waitingFor,
  due_at: p.dueAt,
  scenario_hash: p.scenarioHash,
  converted_at: p.convertedAt,
  exit_reason: p.exitReason,
  ...(p.acts !== undefined ? { acts: p.acts.map(actRow) } : {}),
});

export const skippedStepRow = (s: SkippedStep) => ({
  enrollment_id: s.enrollmentId,
  scenario_id: s.scenarioId,
  step_id: s.stepId,
  line_user_id: s.userId,
  kind: s.kind,
  due_at: s.dueAt,
  reason: s.reason,
});

export const batchDraftRow = (b: BatchDraft) => ({
  id: b.id,
  scenario_id: b.scenarioId,
  step_id: b.stepId,
  kind: b.kind,
  messages: b.messages,
  aggregation_unit: b.aggregationUnit,
  members: b.members.map((m) => ({ enrollment_id: m.enrollmentId, line_user_id: m.userId, due_at: m.dueAt })),
});

export const toClaimedBatch = (b: BatchRow): ClaimedBatch =>
  ({
    id: b.id,
    scenarioId: b.scenario_id,
    stepId: b.step_id,
    kind: b.kind,
    messages: b.messages,
    recipients: b.recipients,
    aggregationUnit: b.aggregation_unit,
    attempts: b.attempts,
    createdAt: Number(b.created_at),
  }) as ClaimedBatch;

export const toSkippedRecipients = (s: SkippedRecipientsRow): SkippedRecipients => ({
  scenarioId: s.scenario_id,
  stepId: s.step_id,
  reason: s.reason,
  count: Number(s.count),
});

export const toExitEvent = (e: ExitEventRow): ExitEvent => ({
  batchId: e.batch_id,
  userId: e.line_user_id,
  type: e.type,
  occurredAt: Number(e.occurred_at),
  properties: e.properties ?? {},
  enrollmentKey: e.enrollment_key ?? undefined,
});

export const sendResultRow = (r: SendResult) => ({
  batch_id: r.batchId,
  outcome: r.outcome,
  ...(r.requestId !== undefined ? { request_id: r.requestId } : {}),
  ...(r.error !== undefined ? { error: r.error } : {}),
});

export const newEventRow = (e: NewEvent) => ({
  ...(e.userId !== undefined ? { line_user_id: e.userId } : {}),
  ...(e.memberId !== undefined ? { member_id: e.memberId } : {}),
  type: e.type,
  properties: e.properties,
  ...(e.occurredAt !== undefined ? { occurred_at: e.occurredAt } : {}),
  source: e.source,
  idempotency_key: e.idempotencyKey,
});

export const toDelivery = (d: DeliveryRow): Delivery => ({
  userId: d.line_user_id,
  scenarioId: d.scenario_id,
  stepId: d.step_id,
  kind: d.kind,
  status: d.status,
  dueAt: Number(d.due_at),
  sentAt: d.sent_at === null ? null : Number(d.sent_at),
  batchId: d.batch_id,
  reason: d.reason,
});

/** lsd_inspect's answer. */
export interface InspectAnswerRow {
  found: boolean;
  /** When not found: events waiting for this member id to be linked. */
  waiting_link?: number;
  user?: {
    line_user_id: string;
    member_id: string | null;
    following: boolean | null;
    followed_at: number | null;
    unfollowed_at: number | null;
    follow_route: string | null;
    attributes: Record<string, unknown>;
    answers: Record<string, unknown>;
  };
  enrollments?: InspectEnrollmentRow[];
  deliveries?: InspectDeliveryRow[];
  events?: InspectEventRow[];
  events_total?: number;
}

export interface InspectEnrollmentRow {
  id: string;
  scenario_id: string;
  status: 'active' | 'finished' | 'exited';
  step_id: string;
  entered_at: number;
  previous_at: number;
  due_at: number | null;
  due_never: boolean | null;
  waiting_for: string | null;
  wait_started_at: number | null;
  converted_at: number | null;
  exit_reason: string | null;
  ended_at: number | null;
  trigger_event_id: string | null;
}

export interface InspectDeliveryRow {
  enrollment_id: string;
  scenario_id: string;
  step_id: string;
  kind: 'send' | 'expire' | 'fail' | 'act' | 'reply' | 'holdout';
  status: string;
  reason: string | null;
  due_at: number;
  created_at: number;
  sent_at: number | null;
  batch_id: string | null;
  batch: {
    kind: string;
    status: string;
    attempts: number;
    recipients: number;
    line_request_id: string | null;
    error: unknown;
    aggregation_unit: string | null;
    sent_at: number | null;
  } | null;
}

export interface InspectEventRow {
  id: string;
  type: string;
  occurred_at: number;
  status: string;
  status_reason: string | null;
  source: string;
  properties: Record<string, unknown>;
}

export const toInspectEvent = (e: InspectEventRow): InspectEvent => ({
  id: e.id,
  type: e.type,
  occurredAt: e.occurred_at,
  status: e.status,
  statusReason: e.status_reason,
  source: e.source,
  properties: e.properties,
});

const toInspectEnrollment = (e: InspectEnrollmentRow): InspectEnrollment => ({
  id: e.id,
  scenarioId: e.scenario_id,
  status: e.status,
  stepId: e.step_id,
  enteredAt: e.entered_at,
  previousAt: e.previous_at,
  dueAt: e.due_at,
  dueNever: e.due_never,
  waitingFor: e.waiting_for,
  waitStartedAt: e.wait_started_at,
  convertedAt: e.converted_at,
  exitReason: e.exit_reason,
  endedAt: e.ended_at,
  triggerEventId: e.trigger_event_id,
});

const toInspectDelivery = (d: InspectDeliveryRow): InspectDelivery => ({
  enrollmentId: d.enrollment_id,
  scenarioId: d.scenario_id,
  stepId: d.step_id,
  kind: d.kind,
  status: d.status,
  reason: d.reason,
  dueAt: d.due_at,
  createdAt: d.created_at,
  sentAt: d.sent_at,
  batchId: d.batch_id,
  batch: d.batch && {
    kind: d.batch.kind,
    status: d.batch.status,
    attempts: d.batch.attempts,
    recipients: d.batch.recipients,
    lineRequestId: d.batch.line_request_id,
    error: d.batch.error,
    aggregationUnit: d.batch.aggregation_unit,
    sentAt: d.batch.sent_at,
  },
});

export function toInspectStory(r: InspectAnswerRow): InspectStory {
  const u = r.user;
  return {
    found: r.found,
    ...(r.waiting_link !== undefined ? { waitingLink: r.waiting_link } : {}),
    ...(u
      ? {
          user: {
            userId: u.line_user_id,
            memberId: u.member_id,
            following: u.following,
            followedAt: u.followed_at,
            unfollowedAt: u.unfollowed_at,
            followRoute: u.follow_route,
            attributes: u.attributes,
            answers: u.answers,
          },
        }
      : {}),
    ...(r.enrollments ? { enrollments: r.enrollments.map(toInspectEnrollment) } : {}),
    ...(r.deliveries ? { deliveries: r.deliveries.map(toInspectDelivery) } : {}),
    ...(r.events ? { events: r.events.map(toInspectEvent) } : {}),
    ...(r.events_total !== undefined ? { eventsTotal: r.events_total } : {}),
  };
}
