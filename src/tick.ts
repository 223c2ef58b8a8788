// One tick, top to bottom: register the scenarios, take in new events, plan what is due,
// commit the plans with their outbox batches in one transaction per page, send the
// outbox, record what LINE answered. Every step is a bounded page of work; a crash at any
// point leaves state from which the next tick continues without sending anything twice.
import { randomUUID } from 'node:crypto';
import type { CompiledScenario } from './scenario/compile.js';
import { canonicalJson } from './scenario/compile.js';
import type { Decision, Plan } from './planner/types.js';
import { LINE_LIMITS } from './scenario/messages.js';
import type { BatchDraft, IngestPage, Store, Attention } from './store/store.js';
import type { Sender } from './line/sender.js';
import { atLocalTime } from './time/zoned.js';
import type { LinkSigner } from './planner/render.js';
import { TickCounts } from './report/counts.js';
import { scenariosToRegister, tickScenarios, type MissingScenario } from './tick-scenarios.js';
import { OutboxSender } from './send/outbox-sender.js';
import { routePage, RoutingMemory } from './tick-ingest.js';
import { planPage, type PlanContext } from './tick-plan.js';
import { whatIfTick } from './tick-what-if.js';
import { LeaseKeeper } from './lease-keeper.js';
import { assertSchemaCurrent } from './store/schema-version.js';

export interface TickOptions {
  store: Store;
  sender: Sender;
  scenarios: CompiledScenario[];
  now: () => number;
  /** Names this tick's leases. */
  owner?: string | undefined;
  shardIndex?: number | undefined;
  shardCount?: number | undefined;
  /** Stop planning once this many recipients are planned in this tick. */
  maxMessages?: number | undefined;
  onlyScenario?: string | undefined;
  pageSize?: number | undefined;
  /** Pages planned side by side (default: what the store's connection allows, 1 for PGlite). */
  lanes?: number | undefined;
  leaseSeconds?: number | undefined;
  trigger?: string | undefined;
  /** At most this many steps per user per local day, across scenarios; higher priority first. */
  frequencyCap?: FrequencyCap | undefined;
  /** Signs tracked links ({{link.x}}) for the click function; without it they stay plain. */
  linkSigner?: LinkSigner | undefined;
  /** Messages (recipients) of the monthly quota to keep unused. */
  quotaReserve?: number | undefined;
  /** Called after each page, for a progress line. */
  progress?: ((what: string, done: number) => void) | undefined;
  /** Stop between phases (tests kill a tick here). */
  stopAfter?: 'ingest' | 'commit';
  /**
   * A what-if (src/tick-what-if.ts): reads the new events and routes them in memory, plans
   * everything due, counts it as planned, and writes nothing at all (no runs row, no lease,
   * no event touched, nothing sent).
   */
  planOnly?: boolean | undefined;
}

export interface TickResult {
  counts: TickCounts;
  attention: Attention;
  previousRunAt: number | null;
  stoppedBy?: 'monthly_limit' | 'unauthorized' | undefined;
  runId: string;
  /** Registered scenarios with no file: their users are held until the file is back or it is retired. */
  missingScenarios: MissingScenario[];
  /** Why no events were taken in this tick (a run limited to one scenario), if so. */
  ingestHeld?: string | undefined;
}

/** Event types the planner may need for conditions, waits, exits and goals. */
export { planAlone } from './tick-plan.js';

/** Event types the planner may need for conditions, waits, exits and goals. */
export function relevantEventTypes(scenarios: CompiledScenario[]): string[] {
  const types = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'event' && typeof v === 'string') types.add(v);
        else visit(v);
      }
    }
  };
  for (const c of scenarios) visit({ steps: c.scenario.steps, exit: c.scenario.exit, goal: c.scenario.goal });
  return [...types].sort();
}

export async function runTick(options: TickOptions): Promise<TickResult> {
  const { store, sender } = options;
  const owner = options.owner ?? `tick-${randomUUID()}`;
  const pageSize = options.pageSize ?? 500;
  const leaseSeconds = options.leaseSeconds ?? 300;
  const shardIndex = options.shardIndex ?? 0;
  const shardCount = options.shardCount ?? 1;
  const whatIf = options.planOnly ?? false;
  const counts = new TickCounts();
  // A run limited to one scenario registers, plans and sends only that one; the others'
  // files still count as present (a file not here is missing, never "removed").
  const scenarios = scenariosToRegister(options.scenarios, options.onlyScenario);

  // Before anything is read or written: the database has the schema this release needs.
  await assertSchemaCurrent(store.rpc);

  // A what-if writes nothing at all, not even its runs row (the next tick's lateness counts real ticks only).
  const run = whatIf
    ? undefined
    : await store.runStart({
        now: options.now(),
        shardIndex,
        shardCount,
        dryRun: false,
        trigger: options.trigger ?? 'schedule',
      });
  const previousRunAt = run?.previous_started_at ?? null;
  const runId = run?.id ?? 'what-if';

  // 1. Scenarios: the definitions in force, and when each first ran.
  const registered = await store.registerScenarios(
    options.now(),
    scenarios.map((c) => ({ id: c.id, hash: c.hash, version: c.scenario.version, definition: c.scenario })),
    { dry: whatIf, present: options.scenarios.map((c) => c.id) },
  );
  const activatedAt = new Map(registered.scenarios.map((s) => [s.id, Number(s.activated_at)]));
  const sets = tickScenarios({ registered: scenarios, registration: registered, onlyScenario: options.onlyScenario });
  const held = { missingScenarios: sets.missing, ingestHeld: sets.ingestHeld };
  const route = (page: IngestPage, memory: RoutingMemory) =>
    routePage({ page, memory, routing: sets.routing, byId: sets.routedById, counts });
  const ctx: PlanContext = {
    sets,
    activatedAt,
    previous: new Map(),
    linkSigner: options.linkSigner,
    cap: options.frequencyCap,
    counts,
  };
  const eventTypes = relevantEventTypes(scenarios);

  if (whatIf) {
    await whatIfTick({
      options,
      store,
      counts,
      pageSize,
      shardIndex,
      shardCount,
      eventTypes,
      ctx,
      route,
      ingestHeld: sets.ingestHeld,
    });
    return { counts, attention: emptyAttention(), previousRunAt, runId, ...held };
  }

  // 2. Ingest: a page of events at a time, routed in order.
  for (;;) {
    if (sets.ingestHeld) break;
    const page = await store.ingestClaim({ now: options.now(), owner, limit: pageSize, leaseSeconds });
    for (const [reason, n] of page.setAsideReasons) counts.noteSetAside(reason, n);
    counts.eventsWaitingLink += page.waitingLink;
    // A page whose events were all set aside (or wait for a link) is not the last one.
    if (!page.events.length) {
      if (page.more) continue;
      break;
    }
    const routed = route(page, new RoutingMemory());
    const { enroll, exit, wake, setAside, done } = routed;
    await store.ingestCommit({
      now: options.now(),
      owner,
      done,
      enroll,
      exit,
      wake,
      update: [...routed.update.values()],
      setAside,
    });
    options.progress?.('events', counts.eventsTaken);
    if (!page.more) break;
  }
  if (options.stopAfter === 'ingest') return { counts, attention: emptyAttention(), previousRunAt, runId, ...held };
  // Batches planned from here on know all this tick took in; older ones are checked before sending.
  const planningFrom = options.now();

  // 3 and 4. Plan a page of due enrollments at a time, each page committed in one transaction;
  // meanwhile the sender sends what the outbox holds (this tick's batches as they are
  // committed, and any left by an earlier one), so the first goes out seconds after the start.
  // Leases held by this tick are renewed while it runs: a long tick keeps its work in flight.
  const leases = new LeaseKeeper({ store, owner, leaseSeconds, now: options.now }).start();
  const outbox =
    options.stopAfter === 'commit'
      ? undefined
      : new OutboxSender({
          store,
          sender,
          owner,
          now: options.now,
          counts,
          leaseSeconds,
          leases,
          quotaReserve: options.quotaReserve ?? 0,
          scenarioIds: sets.claimIds,
          scenarios: sets.plannable,
          checkedBefore: planningFrom,
        });
  outbox?.plannerStarted();
  const sending = outbox?.run();
  // Awaited after planning; a failure meanwhile must not count as unhandled.
  sending?.catch(() => {});
  let planned = 0;
  // Lanes: pages claimed and committed side by side over separate connections. Each lane
  // takes its own share of users (a finer shard of this tick's shard), so a user's pages
  // stay in order in one lane and the frequency cap sees every earlier page's sends.
  const lanes = Math.max(1, Math.min(8, options.lanes ?? store.lanes));
  const planLane = async (laneShardIndex: number, laneShardCount: number): Promise<void> => {
    for (;;) {
      if (options.maxMessages !== undefined && counts.recipientsPlanned >= options.maxMessages) {
        counts.heldBackByMaxMessages = true;
        break;
      }
      const now = options.now();
      const capSince = ctx.cap ? localMidnight(now, ctx.cap.timezone) : undefined;
      const page = await store.claimDue({
        now,
        owner,
        limit: pageSize,
        leaseSeconds,
        shardIndex: laneShardIndex,
        shardCount: laneShardCount,
        eventTypes,
        capSince,
        scenarioIds: sets.claimIds,
      });
      if (!page.enrollments.length) break;
      const claimedIds = page.enrollments.map((e) => e.id);
      leases.holdEnrollments(claimedIds);
      const { plans, skipped, batches } = planPage(page, now, ctx);
      const committed = await store.commitPlans({ now, owner, plans, skipped, batches });
      leases.releaseEnrollments(claimedIds);
      outbox?.planned(batches.length);
      counts.lostLeases += committed.lost;
      planned += page.enrollments.length;
      options.progress?.('enrollments planned', planned);
      if (page.enrollments.length < pageSize) break;
    }
  };
  const lanesDone = Promise.all(
    Array.from({ length: lanes }, (_, lane) => planLane(shardIndex + shardCount * lane, shardCount * lanes)),
  );
  const planningFailed = await lanesDone.then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  outbox?.plannerDone();
  // (When planning failed, what was committed is still sent; then the tick fails.)
  const stoppedBy = await (sending ?? Promise.resolve(undefined)).finally(() => leases.stop());
  if (planningFailed) throw planningFailed.error;
  if (options.stopAfter === 'commit') return { counts, attention: emptyAttention(), previousRunAt, runId, ...held };

  const attention = await store.runFinish({
    now: options.now(),
    id: runId,
    counts: counts.toJSON(),
    status: stoppedBy ? `stopped: ${stoppedBy}` : 'ok',
  });
  return { counts, attention, previousRunAt, stoppedBy, runId, ...held };
}

export interface FrequencyCap {
  perDay: number;
  timezone: string;
}

export function localMidnight(now: number, tz: string): number {
  return atLocalTime(now, 0, 0, tz);
}

export function nextLocalMidnight(now: number, tz: string): number {
  return atLocalTime(now, 1, 0, tz);
}

/**
 * Which plans of one page the cap defers: per user, sends are allowed up to the cap minus
 * what the user was already sent today (committed, earlier pages included), higher-priority
 * scenarios first, then earlier moments.
 */
export function applyFrequencyCap(
  plans: { enrollment: { id: string; userId: string }; compiled: CompiledScenario; plan: Plan }[],
  cap: FrequencyCap,
  sentInTick: Map<string, number>,
  sentBefore: Map<string, number>,
): Set<string> {
  const deferred = new Set<string>();
  const withSends = plans
    .map((p) => ({
      ...p,
      sends: p.plan.decisions.filter((d): d is Extract<Decision, { kind: 'send' }> => d.kind === 'send'),
    }))
    .filter((p) => p.sends.length > 0)
    .sort((a, b) => b.compiled.priority - a.compiled.priority || a.sends[0]!.dueAt - b.sends[0]!.dueAt);
  for (const p of withSends) {
    const user = p.enrollment.userId;
    const used = (sentBefore.get(user) ?? 0) + (sentInTick.get(user) ?? 0);
    if (used + p.sends.length > cap.perDay) deferred.add(p.enrollment.id);
    else sentInTick.set(user, (sentInTick.get(user) ?? 0) + p.sends.length);
  }
  return deferred;
}

function emptyAttention(): Attention {
  return { needs_review: 0, set_aside_recent: 0, waiting_link: 0, pending_batches: 0 };
}

/**
 * Groups sends into LINE requests: identical messages of one step go together by
 * multicast, 500 recipients at most; personalized ones go by push, one per recipient.
 */
export function toBatches(
  sends: { enrollmentId: string; userId: string; scenarioId: string; decision: Extract<Decision, { kind: 'send' }> }[],
): BatchDraft[] {
  const batches: BatchDraft[] = [];
  const groups = new Map<string, BatchDraft[]>();
  // Two keyed enrollments of one user (two bookings) may send the same step in one tick:
  // a user appears at most once in a multicast, so the second goes into another batch.
  const usersOf = new Map<BatchDraft, Set<string>>();
  for (const s of sends) {
    const d = s.decision;
    const member = { enrollment_id: s.enrollmentId, line_user_id: s.userId, due_at: d.dueAt };
    if (!d.uniform) {
      batches.push({
        id: randomUUID(),
        scenario_id: s.scenarioId,
        step_id: d.stepId,
        kind: 'push',
        messages: d.messages,
        aggregation_unit: d.aggregationUnit,
        members: [member],
      });
      continue;
    }
    const key = `${s.scenarioId}\u0000${d.stepId}\u0000${canonicalJson(d.messages)}`;
    const open = groups.get(key) ?? [];
    groups.set(key, open);
    const fits = (b: BatchDraft) =>
      b.members.length < LINE_LIMITS.multicastRecipients && !usersOf.get(b)!.has(s.userId);
    // The newest batch of the group, else (a user met twice) any earlier one with room.
    let batch = open.length && fits(open[open.length - 1]!) ? open[open.length - 1] : open.find(fits);
    if (!batch) {
      batch = {
        id: randomUUID(),
        scenario_id: s.scenarioId,
        step_id: d.stepId,
        kind: 'multicast',
        messages: d.messages,
        aggregation_unit: d.aggregationUnit,
        members: [],
      };
      open.push(batch);
      usersOf.set(batch, new Set());
      batches.push(batch);
    }
    batch.members.push(member);
    usersOf.get(batch)!.add(s.userId);
  }
  for (const b of batches) if (b.members.length === 1) b.kind = 'push';
  return batches;
}
