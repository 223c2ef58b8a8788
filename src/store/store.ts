// The store, typed: one method per SQL function, converting rows to the planner's types.
// Nothing here decides anything; it only names the calls.
import type { Message } from '../scenario/messages.js';
import type { EnrollmentSummary } from '../planner/route.js';
import type { EnrollmentState, EventFact, UserFacts } from '../planner/types.js';
import type { Rpc } from './rpc.js';
import { toReportPage } from '../report/report-data.js';
import type { InspectAnswer, ReportPage, UnitDay, UnitDayStatistics } from '../report/report-data.js';

export interface ScenarioRegistration {
  id: string;
  hash: string;
  version: number;
  definition: unknown;
}

interface UserRow {
  line_user_id: string;
  following: boolean;
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
}
interface EventRow {
  id: string;
  line_user_id: string;
  type: string;
  occurred_at: number;
  properties: Record<string, unknown>;
  facts_before?: UserRow | null;
  facts_after?: UserRow | null;
}

export interface IngestPage {
  /**
   * An event that changed the user record carries the user's facts after it (and the user's
   * first such event, the facts before it), so routing can see each event's user as of that
   * event: facts a later event of the page changes are not known to an earlier one.
   */
  events: (EventFact & { userId: string; factsBefore?: UserFacts | undefined; factsAfter?: UserFacts | undefined })[];
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

export interface PlanCommit {
  id: string;
  status: 'active' | 'finished' | 'exited';
  step_id: string;
  previous_at: number;
  wait_started_at: number | null;
  waiting_for: string | null;
  /** null while active means "not until the scenario changes" (paused). */
  due_at: number | null;
  scenario_hash: string;
  converted_at: number | null;
  exit_reason: string | null;
  /** The action steps this plan did, applied by the commit (issue 18). */
  acts?: ActDraft[] | undefined;
}

export interface SkippedStep {
  enrollment_id: string;
  scenario_id: string;
  step_id: string;
  line_user_id: string;
  kind: 'expire' | 'fail';
  due_at: number;
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

interface BatchDraftBase {
  /** UUID: the X-Line-Retry-Key (rich menu requests have none: see src/line/rich-menu.ts). */
  id: string;
  scenario_id: string;
  step_id: string;
  /** LINE's customAggregationUnits name (null: a rich menu batch, which has none). */
  aggregation_unit: string | null;
  members: { enrollment_id: string; line_user_id: string; due_at: number }[];
}

export type BatchDraft =
  | (BatchDraftBase & { kind: 'push' | 'multicast'; messages: Message[] })
  | (BatchDraftBase & { kind: RichMenuKind; messages: RichMenuPayload[] });

/**
 * An action step's change of one enrollment's user, applied by the commit to line_users in
 * the transaction that advances the enrollment (once: a replay changes nothing), with
 * tag_added, tag_removed, attribute_set and attribute_cleared events recorded.
 * batch_id: the rich menu batch this step's recipient is in (its delivery is that batch's).
 */
export interface ActDraft {
  enrollment_id: string;
  scenario_id: string;
  step_id: string;
  line_user_id: string;
  due_at: number;
  tags: { add: string[]; remove: string[] };
  attributes: { set: Record<string, string | number | boolean>; clear: string[] };
  batch_id: string | null;
}

/** Registration's answer: each scenario's first run, and the registered ones with no file. */
export interface Registration {
  scenarios: { id: string; activated_at: number }[];
  rescheduled: number;
  /** No file and not retired: held; events are still routed by the last definition. */
  missing: { id: string; hash: string; definition: unknown; activatedAt: number; usersInside: number }[];
  /** Retired, no file, users still inside: the tick ends their enrollments. */
  retiredAbsent: { id: string; usersInside: number }[];
}

/** Recipients dropped from pending batches because they left before it was sent. */
export interface SkippedRecipients {
  scenario_id: string;
  step_id: string;
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

export interface OutboxBatch {
  id: string;
  scenario_id: string;
  step_id: string;
  kind: 'push' | 'multicast';
  messages: Message[];
  recipients: string[];
  aggregation_unit: string | null;
  attempts: number;
  created_at: number;
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

export type SendOutcome = 'sent' | 'failed' | 'deferred' | 'uncertain';

export interface SendResult {
  batch_id: string;
  outcome: SendOutcome;
  request_id?: string | undefined;
  error?: unknown;
}

export interface Attention {
  needs_review: number;
  set_aside_recent: number;
  waiting_link: number;
  pending_batches: number;
}

export interface DeliveryRow {
  line_user_id: string;
  scenario_id: string;
  step_id: string;
  /** act: an action step (its rich menu change is sent through the outbox). */
  kind: 'send' | 'expire' | 'fail' | 'act';
  status: string;
  due_at: number;
  sent_at: number | null;
  batch_id: string | null;
  reason: string | null;
}

interface IngestAnswer {
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

function toIngestPage(r: IngestAnswer, limit: number): IngestPage {
  return {
    events: r.events.map((e) => ({
      id: e.id,
      userId: e.line_user_id,
      type: e.type,
      occurredAt: Number(e.occurred_at),
      properties: e.properties ?? {},
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
    setAsideReasons: new Map(Object.entries(r.set_aside_reasons ?? {}).map(([k, v]) => [k, Number(v)])),
    waitingLink: r.waiting_link,
    // (A database without migration 20261126000001 has no byte bound: a short page was the last.)
    more: r.more ?? r.events.length + r.set_aside + r.waiting_link >= limit,
  };
}

interface DueAnswer {
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

function toDuePage(r: DueAnswer): DuePage {
  const eventsByUser = new Map<string, EventFact[]>();
  for (const e of r.events) {
    let list = eventsByUser.get(e.line_user_id);
    if (!list) eventsByUser.set(e.line_user_id, (list = []));
    list.push({ id: e.id, type: e.type, occurredAt: Number(e.occurred_at), properties: e.properties ?? {} });
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
    sentCounts: new Map(Object.entries(r.sent_counts ?? {}).map(([k, v]) => [k, Number(v)])),
  };
}

const toUser = (u: UserRow): UserFacts => ({
  userId: u.line_user_id,
  following: u.following,
  attributes: u.attributes ?? {},
  answers: u.answers ?? {},
});

export class Store {
  constructor(readonly rpc: Rpc) {}

  get label(): string {
    return this.rpc.label;
  }

  get lanes(): number {
    return this.rpc.lanes ?? 1;
  }

  /**
   * Registers the definitions in force. `present` names every scenario file of this run
   * (default: the ones registered); a registered scenario outside it is missing (held, with
   * its last definition) unless it was retired.
   */
  async registerScenarios(
    now: number,
    scenarios: ScenarioRegistration[],
    options: { rescheduleLimit?: number; dry?: boolean; present?: string[] } = {},
  ): Promise<Registration> {
    const r = await this.rpc.call<{
      scenarios: { id: string; activated_at: number }[];
      rescheduled: number;
      missing?: {
        id: string;
        hash: string;
        definition: unknown;
        activated_at: number;
        users_inside: number | string;
      }[];
      retired_absent?: { id: string; users_inside: number | string }[];
    }>('lsd_register_scenarios', {
      now,
      scenarios,
      ...(options.present ? { present: options.present } : {}),
      reschedule_limit: options.rescheduleLimit ?? 5000,
      dry: options.dry ?? false,
    });
    return {
      scenarios: r.scenarios,
      rescheduled: r.rescheduled,
      missing: (r.missing ?? []).map((m) => ({
        id: m.id,
        hash: m.hash,
        definition: m.definition,
        activatedAt: Number(m.activated_at),
        usersInside: Number(m.users_inside),
      })),
      retiredAbsent: (r.retired_absent ?? []).map((m) => ({ id: m.id, usersInside: Number(m.users_inside) })),
    };
  }

  /** A page of new events: at most `limit` rows and `pageBytes` of properties (default 8 MiB). */
  async ingestClaim(args: {
    now: number;
    owner: string;
    limit: number;
    leaseSeconds: number;
    pageBytes?: number | undefined;
  }): Promise<IngestPage> {
    const r = await this.rpc.call<IngestAnswer>('lsd_ingest_claim', {
      now: args.now,
      owner: args.owner,
      limit: args.limit,
      lease_seconds: args.leaseSeconds,
      ...(args.pageBytes !== undefined ? { page_bytes: args.pageBytes } : {}),
    });
    return toIngestPage(r, args.limit);
  }

  /**
   * What ingestClaim would return for the new events after afterId, with nothing written (no
   * lease, no status, no user row): a what-if. lastId: where the next page starts.
   */
  async ingestPeek(args: {
    now: number;
    limit: number;
    afterId?: string | undefined;
  }): Promise<IngestPage & { lastId: string | undefined }> {
    const r = await this.rpc.call<IngestAnswer>('lsd_ingest_peek', {
      now: args.now,
      limit: args.limit,
      after_id: args.afterId ?? '0',
    });
    return { ...toIngestPage(r, args.limit), lastId: r.last_id ?? undefined };
  }

  ingestCommit(args: {
    now: number;
    owner: string;
    done: string[];
    enroll: {
      scenario_id: string;
      line_user_id: string;
      step_id: string;
      entered_at: number;
      trigger: Record<string, unknown>;
      trigger_event_id: string;
      scenario_hash: string;
      enrollment_key?: string | null;
      status?: 'exited';
      exit_reason?: string;
      converted_at?: number;
    }[];
    exit: { enrollment_id: string; reason: string; converted_at?: number }[];
    wake: string[];
    /** Active keyed enrollments whose key came again: their trigger is replaced, and they are planned again now. */
    update?: { enrollment_id: string; trigger: Record<string, unknown>; trigger_event_id: string }[] | undefined;
    setAside?: SetAsideEvent[] | undefined;
  }) {
    const { setAside, ...rest } = args;
    return this.rpc.call<{
      exited: number;
      enrolled: number;
      woken: number;
      updated?: number;
      done: number;
      set_aside?: number;
    }>('lsd_ingest_commit', { ...rest, update: rest.update ?? [], set_aside: setAside ?? [] });
  }

  /** scenarioIds: only enrollments of these scenarios (the others are left as they are). */
  async claimDue(args: {
    now: number;
    owner: string;
    limit: number;
    leaseSeconds: number;
    shardIndex: number;
    shardCount: number;
    eventTypes: string[];
    capSince?: number | undefined;
    scenarioIds?: string[] | undefined;
  }): Promise<DuePage> {
    const r = await this.rpc.call<DueAnswer>('lsd_claim_due', {
      now: args.now,
      owner: args.owner,
      limit: args.limit,
      lease_seconds: args.leaseSeconds,
      shard_index: args.shardIndex,
      shard_count: args.shardCount,
      event_types: args.eventTypes,
      ...(args.capSince !== undefined ? { cap_since: args.capSince } : {}),
      ...(args.scenarioIds ? { scenario_ids: args.scenarioIds } : {}),
    });
    return toDuePage(r);
  }

  /**
   * What claimDue would claim, without leasing it (a what-if): a page in (due_at, id) order
   * after the cursor; or the given enrollments (ids) and the facts and events of more users.
   */
  async peekDue(args: {
    now: number;
    limit: number;
    shardIndex: number;
    shardCount: number;
    eventTypes: string[];
    capSince?: number | undefined;
    scenarioIds?: string[] | undefined;
    after?: { dueAt: number; id: string } | undefined;
    ids?: string[] | undefined;
    userIds?: string[] | undefined;
    since?: number | undefined;
  }): Promise<DuePage & { last: { dueAt: number; id: string } | undefined }> {
    const r = await this.rpc.call<DueAnswer>('lsd_peek_due', {
      now: args.now,
      limit: args.limit,
      shard_index: args.shardIndex,
      shard_count: args.shardCount,
      event_types: args.eventTypes,
      ...(args.capSince !== undefined ? { cap_since: args.capSince } : {}),
      ...(args.scenarioIds ? { scenario_ids: args.scenarioIds } : {}),
      ...(args.after ? { after_due: args.after.dueAt, after_id: args.after.id } : {}),
      ...(args.ids ? { ids: args.ids } : {}),
      ...(args.userIds ? { user_ids: args.userIds } : {}),
      ...(args.since !== undefined ? { since: args.since } : {}),
    });
    const lastRow = r.enrollments[r.enrollments.length - 1];
    return { ...toDuePage(r), last: lastRow ? { dueAt: Number(lastRow.due_at), id: lastRow.id } : undefined };
  }

  /** acts: action steps done (only when the page had some); actsFailed: of them, failed by the store's tag check. */
  async commitPlans(args: {
    now: number;
    owner: string;
    plans: PlanCommit[];
    skipped: SkippedStep[];
    batches: BatchDraft[];
  }): Promise<{ committed: number; lost: number; batches: number; acts?: number; actsFailed?: number }> {
    const r = await this.rpc.call<{
      committed: number;
      lost: number;
      batches: number;
      acts?: number;
      acts_failed?: number;
    }>('lsd_commit_plans', args);
    const { acts, acts_failed: actsFailed, ...rest } = r;
    return acts ? { ...rest, acts, actsFailed: actsFailed ?? 0 } : rest;
  }

  /**
   * Leases pending batches (of scenarioIds only, when given). From the batches planned before
   * checkedBefore, recipients who left since are dropped first, unless an attempt of the batch
   * may have reached LINE; exitTypes (scenario id to the event types of its exit rules) asks
   * for the exit events of recipients whose enrollment finished, for the tick to judge (then
   * dropRecipients).
   */
  async claimBatches(args: {
    now: number;
    owner: string;
    limit: number;
    leaseSeconds: number;
    retryWindowSeconds?: number;
    triedSince?: number;
    scenarioIds?: string[] | undefined;
    exitTypes?: Record<string, string[]> | undefined;
    checkedBefore?: number | undefined;
    /** Leave never-attempted multicasts of fewer than 500 users for a later, merging claim. */
    holdPartial?: boolean | undefined;
  }) {
    const r = await this.rpc.call<{
      batches: ClaimedBatch[];
      needs_review: number;
      skipped?: SkippedRecipients[];
      exit_events?: (Omit<EventRow, 'id'> & { batch_id: string; enrollment_key?: string | null })[];
    }>('lsd_claim_batches', {
      now: args.now,
      ...(args.triedSince !== undefined ? { tried_since: args.triedSince } : {}),
      owner: args.owner,
      limit: args.limit,
      lease_seconds: args.leaseSeconds,
      ...(args.retryWindowSeconds !== undefined ? { retry_window_seconds: args.retryWindowSeconds } : {}),
      ...(args.scenarioIds ? { scenario_ids: args.scenarioIds } : {}),
      ...(args.exitTypes ? { exit_types: args.exitTypes } : {}),
      ...(args.checkedBefore !== undefined ? { checked_before: args.checkedBefore } : {}),
      ...(args.holdPartial ? { hold_partial: true } : {}),
    });
    return {
      batches: r.batches,
      needs_review: r.needs_review,
      skipped: r.skipped ?? [],
      exitEvents: (r.exit_events ?? []).map((e): ExitEvent => ({
        batchId: e.batch_id,
        userId: e.line_user_id,
        type: e.type,
        occurredAt: Number(e.occurred_at),
        properties: e.properties ?? {},
        enrollmentKey: e.enrollment_key ?? undefined,
      })),
    };
  }

  /** Drops recipients of batches this owner just claimed; a batch left with nobody is skipped. */
  dropRecipients(args: {
    now: number;
    owner: string;
    drops: { batch_id: string; line_user_id: string; reason: string }[];
  }) {
    return this.rpc.call<{
      batches: { id: string; recipients: string[]; kind: ClaimedBatch['kind']; status: string }[];
      skipped: SkippedRecipients[];
    }>('lsd_drop_recipients', args);
  }

  recordResults(args: { now: number; owner: string; results: SendResult[] }) {
    return this.rpc.call<{ deliveries: number }>('lsd_record_results', args);
  }

  runStart(args: { now: number; shardIndex: number; shardCount: number; dryRun: boolean; trigger: string }) {
    return this.rpc.call<{ id: string; previous_started_at: number | null; previous_status: string | null }>(
      'lsd_run_start',
      {
        now: args.now,
        shard_index: args.shardIndex,
        shard_count: args.shardCount,
        dry_run: args.dryRun,
        trigger: args.trigger,
      },
    );
  }

  runFinish(args: { now: number; id: string; counts: unknown; status: string }) {
    return this.rpc.call<Attention>('lsd_run_finish', args);
  }

  insertEvents(
    events: {
      line_user_id?: string | undefined;
      member_id?: string | undefined;
      type: string;
      properties: Record<string, unknown>;
      occurred_at?: number | undefined;
      source: string;
      idempotency_key: string;
    }[],
  ) {
    return this.rpc.call<{ inserted: number }>('lsd_insert_events', { events });
  }

  /** Extends the leases this owner still holds on these enrollments and pending batches (a long tick). */
  renewLeases(args: { now: number; owner: string; leaseSeconds: number; enrollmentIds: string[]; batchIds: string[] }) {
    return this.rpc.call<{ enrollments: number; batches: number }>('lsd_renew_leases', {
      now: args.now,
      owner: args.owner,
      lease_seconds: args.leaseSeconds,
      enrollment_ids: args.enrollmentIds,
      batch_ids: args.batchIds,
    });
  }

  release(owner: string, ids: string[]) {
    return this.rpc.call<{ released: number }>('lsd_release', { owner, ids });
  }

  deliveriesOf(lineUserIds: string[]) {
    return this.rpc.call<DeliveryRow[]>('lsd_deliveries_of', { line_user_ids: lineUserIds });
  }

  close() {
    return this.rpc.close();
  }

  /** The report of a period (epoch ms, to exclusive), a page of scenarios: counts only, never a user id or a text. */
  async reportPage(args: {
    from: number;
    to: number;
    scenarioId?: string | undefined;
    after?: string | undefined;
    limit?: number;
  }): Promise<ReportPage> {
    const { from, to, scenarioId, after, limit } = args;
    const page = await this.rpc.call<Record<string, unknown>>('lsd_report', {
      from,
      to,
      scenario_id: scenarioId ?? null,
      after: after ?? null,
      limit: limit ?? 50,
    });
    return toReportPage(page);
  }

  /** The aggregation units and UTC+9 days of the period whose LINE statistics are missing or not settled yet. */
  unitStatsDue(args: { from: number; to: number; now: number; limit: number }) {
    return this.rpc.call<{ due: UnitDay[]; more: boolean }>('lsd_unit_stats_due', args);
  }

  saveUnitStats(now: number, rows: UnitDayStatistics[]) {
    return this.rpc.call<{ saved: number }>('lsd_unit_stats_save', { now, rows });
  }

  /** One user's story, by LINE user id or member id: user data, for the CLI's inspect only. */
  inspect(user: string, eventsLimit = 200) {
    return this.rpc.call<InspectAnswer>('lsd_inspect', { user, events_limit: eventsLimit });
  }
}
