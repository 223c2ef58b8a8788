// The store, typed: one method per SQL function. Its methods take and return the domain
// types of src/domain.ts; the SQL rows and their mapping stay in src/store/rows.ts.
// Nothing here decides anything; it only names the calls.
import type { Rpc } from './rpc.js';
import {
  commitAndClaim,
  dueClaimPayload,
  ingestClaimPayload,
  ingestCommitAndClaim,
  ingestCommitPayload,
  plansCommitPayload,
  toIngestCommitted,
  toPlansCommitted,
  type DueClaim,
  type IngestClaim,
  type IngestCommitAnswer,
  type IngestCommitted,
  type PlansAnswer,
  type PlansCommitted,
} from './lane-calls.js';
import { toHoldoutCounts, toReportPage, toRouteReports, type HoldoutCounts, type RouteReport } from './report-data.js';
import type { ReportPage, UnitDay, UnitDayStatistics } from './report-data.js';
import type {
  Attention,
  BatchClaim,
  ChangedBatch,
  Delivery,
  DuePage,
  IngestCommit,
  IngestPage,
  InspectStory,
  LatenessDay,
  ActionsUsage,
  NewEvent,
  PlansCommit,
  RecipientDrop,
  Registration,
  RunStarted,
  ScenarioRegistration,
  SendResult,
  SkippedRecipients,
} from '../domain.js';
import {
  newEventRow,
  sendResultRow,
  toClaimedBatch,
  toDelivery,
  toDuePage,
  toExitEvent,
  toIngestPage,
  unitStatsRow,
  toInspectStory,
  toSkippedRecipients,
  toAttention,
  type AttentionRow,
  type BatchRow,
  type DeliveryRow,
  type DueAnswer,
  type ExitEventRow,
  type IngestAnswer,
  type InspectAnswerRow,
  type SkippedRecipientsRow,
} from './rows.js';

export class Store {
  constructor(readonly rpc: Rpc) {}

  get label(): string {
    return this.rpc.label;
  }

  get lanes(): number {
    return this.rpc.lanes ?? 1;
  }

  /** The most pages the adapter's connections allow in flight. */
  get maxLanes(): number {
    return this.rpc.maxLanes ?? this.lanes;
  }

  /** About one round trip to the database (the fastest call so far); undefined before any. */
  get roundTripMs(): number | undefined {
    return this.rpc.fastestCallMs;
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
      scenarios: r.scenarios.map((x) => ({ id: x.id, activatedAt: Number(x.activated_at) })),
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
  async ingestClaim(args: IngestClaim): Promise<IngestPage> {
    return toIngestPage(await this.rpc.call<IngestAnswer>('lsd_ingest_claim', ingestClaimPayload(args)), args.limit);
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

  /** Counts of what the commit changed (setAside: events set aside, on a database that says). */
  async ingestCommit(args: IngestCommit): Promise<IngestCommitted> {
    return toIngestCommitted(await this.rpc.call<IngestCommitAnswer>('lsd_ingest_commit', ingestCommitPayload(args)));
  }

  /** scenarioIds: only enrollments of these scenarios (the others are left as they are). */
  async claimDue(args: DueClaim): Promise<DuePage> {
    return toDuePage(await this.rpc.call<DueAnswer>('lsd_claim_due', dueClaimPayload(args)));
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

  /**
   * Commits a planned page and, when `claim` is given, claims the lane's next page after it
   * in the same transaction: one round trip a page (lsd_commit_and_claim).
   */
  async commitAndClaim(commit: PlansCommit, claim: DueClaim | undefined) {
    if (!claim) return { committed: await this.commitPlans(commit), next: undefined };
    return commitAndClaim(this.rpc, commit, claim);
  }

  /** Commits a page of events and, when `claim` is given, claims the next in the same transaction (lsd_ingest_commit_and_claim). */
  async ingestCommitAndClaim(commit: IngestCommit, claim: IngestClaim | undefined) {
    if (!claim) return { committed: await this.ingestCommit(commit), next: undefined };
    return ingestCommitAndClaim(this.rpc, commit, claim);
  }

  /** acts: action steps done (only when the page had some); actsFailed: of them, failed by the store's tag check. */
  async commitPlans(args: PlansCommit): Promise<PlansCommitted> {
    return toPlansCommitted(await this.rpc.call<PlansAnswer>('lsd_commit_plans', plansCommitPayload(args)));
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
  }): Promise<BatchClaim> {
    const r = await this.rpc.call<{
      batches: BatchRow[];
      needs_review: number;
      skipped?: SkippedRecipientsRow[];
      exit_events?: ExitEventRow[];
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
      batches: r.batches.map(toClaimedBatch),
      needsReview: r.needs_review,
      skipped: (r.skipped ?? []).map(toSkippedRecipients),
      exitEvents: (r.exit_events ?? []).map(toExitEvent),
    };
  }

  /** Drops recipients of batches this owner just claimed; a batch left with nobody is skipped. */
  async dropRecipients(args: {
    now: number;
    owner: string;
    drops: RecipientDrop[];
  }): Promise<{ batches: ChangedBatch[]; skipped: SkippedRecipients[] }> {
    const r = await this.rpc.call<{ batches: ChangedBatch[]; skipped: SkippedRecipientsRow[] }>('lsd_drop_recipients', {
      now: args.now,
      owner: args.owner,
      drops: args.drops.map((d) => ({ batch_id: d.batchId, line_user_id: d.userId, reason: d.reason })),
    });
    return { batches: r.batches, skipped: r.skipped.map(toSkippedRecipients) };
  }

  /** Given runId, the steps marked sent count in that run's lateness (from due to acceptedAt). */
  recordResults(args: { now: number; owner: string; results: SendResult[]; runId?: string | undefined }) {
    return this.rpc.call<{ deliveries: number }>('lsd_record_results', {
      now: args.now,
      owner: args.owner,
      ...(args.runId ? { run_id: args.runId } : {}),
      results: args.results.map((r) => ({
        ...sendResultRow(r),
        ...(r.acceptedAt !== undefined ? { accepted_at: r.acceptedAt } : {}),
      })),
    });
  }

  /** Lateness per day (days in zone) of the runs recorded in [from, to): p50, p95, max in seconds. */
  async latenessByDay(args: { from: number; to: number; zone?: string | undefined }): Promise<LatenessDay[]> {
    return this.rpc.call<LatenessDay[]>('lsd_lateness_by_day', {
      from: args.from,
      to: args.to,
      zone: args.zone ?? 'Asia/Tokyo',
    });
  }

  /** Runs started in [from, to) and the Actions minutes they billed (whole minutes each, from start to end). */
  async actionsUsage(args: { from: number; to: number; now: number }): Promise<ActionsUsage> {
    const r = await this.rpc.call<{ runs: number; billed_minutes: number; unfinished: number }>(
      'lsd_actions_usage',
      args,
    );
    return { runs: Number(r.runs), billedMinutes: Number(r.billed_minutes), unfinished: Number(r.unfinished) };
  }

  async runStart(args: {
    now: number;
    shardIndex: number;
    shardCount: number;
    dryRun: boolean;
    trigger: string;
  }): Promise<RunStarted> {
    const r = await this.rpc.call<{ id: string; previous_started_at: number | null; previous_status: string | null }>(
      'lsd_run_start',
      {
        now: args.now,
        shard_index: args.shardIndex,
        shard_count: args.shardCount,
        dry_run: args.dryRun,
        trigger: args.trigger,
      },
    );
    const at = r.previous_started_at;
    return { id: r.id, previousStartedAt: at === null ? null : Number(at), previousStatus: r.previous_status };
  }

  async runFinish(args: { now: number; id: string; counts: unknown; status: string }): Promise<Attention> {
    const r = await this.rpc.call<AttentionRow>('lsd_run_finish', args);
    return toAttention(r);
  }

  insertEvents(events: NewEvent[]) {
    return this.rpc.call<{ inserted: number }>('lsd_insert_events', { events: events.map(newEventRow) });
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

  async deliveriesOf(userIds: string[]): Promise<Delivery[]> {
    const rows = await this.rpc.call<DeliveryRow[]>('lsd_deliveries_of', { line_user_ids: userIds });
    return rows.map(toDelivery);
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

  /** Per scenario, the treated and the held out who entered in [from, to), and how many of each converted (docs/measuring.md). */
  async holdoutReport(args: { from: number; to: number; scenarioIds: string[] }): Promise<HoldoutCounts[]> {
    const rows = await this.rpc.call<Record<string, unknown>[]>('lsd_holdout_report', {
      from: args.from,
      to: args.to,
      scenario_ids: args.scenarioIds,
    });
    return toHoldoutCounts(rows);
  }

  /** Per follow route of [from, to): friends added, blocked within 7 and 30 days, entered and converted per scenario. */
  async routeReport(args: {
    from: number;
    to: number;
    limit?: number;
  }): Promise<{ routes: RouteReport[]; more: boolean }> {
    const r = await this.rpc.call<Record<string, unknown>>('lsd_route_report', {
      from: args.from,
      to: args.to,
      routes_limit: args.limit ?? 50,
    });
    return toRouteReports(r);
  }

  /** The aggregation units and UTC+9 days of the period whose LINE statistics are missing or not settled yet. */
  unitStatsDue(args: { from: number; to: number; now: number; limit: number }) {
    return this.rpc.call<{ due: UnitDay[]; more: boolean }>('lsd_unit_stats_due', args);
  }

  saveUnitStats(now: number, rows: UnitDayStatistics[]) {
    return this.rpc.call<{ saved: number }>('lsd_unit_stats_save', { now, rows: rows.map(unitStatsRow) });
  }

  /** One user's story, by LINE user id or member id: user data, for the CLI's inspect only. */
  async inspect(user: string, eventsLimit = 200): Promise<InspectStory> {
    return toInspectStory(await this.rpc.call<InspectAnswerRow>('lsd_inspect', { user, events_limit: eventsLimit }));
  }
}
