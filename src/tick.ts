// One tick, top to bottom: register the scenarios, take in new events, plan what is due,
// commit the plans with their outbox batches in one transaction per page, send the
// outbox, record what LINE answered. Every step is a bounded page of work; a crash at any
// point leaves state from which the next tick continues without sending anything twice.
import { randomUUID } from 'node:crypto';
import { compileScenario, type CompiledScenario } from './scenario/compile.js';
import type { Scenario } from './scenario/schema.js';
import { routeEvent, type EnrollmentSummary, type RouteResult, type RoutingScenario } from './planner/route.js';
import { planEnrollment, userTimeZone, type PlanInput, type ScenarioRuntime } from './planner/plan.js';
import { applyWindow } from './planner/timing.js';
import type { Decision, Plan, UserFacts } from './planner/types.js';
import { LINE_LIMITS } from './scenario/messages.js';
import { canonicalJson } from './scenario/compile.js';
import type { BatchDraft, PlanCommit, SetAsideEvent, SkippedStep, Store, Attention } from './store/store.js';
import type { Sender } from './line/sender.js';
import { atLocalTime } from './time/zoned.js';
import type { LinkSigner } from './planner/render.js';
import { TickCounts } from './report/counts.js';
import { failureReason } from './report/public-error.js';
import { RETIRED_REASON, scenariosToRegister, tickScenarios, type MissingScenario } from './tick-scenarios.js';
import { OutboxSender } from './send/outbox-sender.js';
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
   * Plan only: take in nothing, claim and plan what is due, report it, then give the
   * leases back. Nothing is committed and nothing is sent (a what-if run by hand).
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
  const counts = new TickCounts();
  // A run limited to one scenario registers, plans and sends only that one; the others'
  // files still count as present (a file not here is missing, never "removed").
  const scenarios = scenariosToRegister(options.scenarios, options.onlyScenario);

  // Before anything is read or written: the database has the schema this release needs.
  await assertSchemaCurrent(store.rpc);

  const run = await store.runStart({ now: options.now(), shardIndex, shardCount, dryRun: options.planOnly ?? false, trigger: options.trigger ?? 'schedule' });

  // 1. Scenarios: the definitions in force, and when each first ran.
  const registered = await store.registerScenarios(
    options.now(),
    scenarios.map((c) => ({ id: c.id, hash: c.hash, version: c.scenario.version, definition: c.scenario })),
    { dry: options.planOnly ?? false, present: options.scenarios.map((c) => c.id) },
  );
  const activatedAt = new Map(registered.scenarios.map((s) => [s.id, Number(s.activated_at)]));
  const sets = tickScenarios({ registered: scenarios, registration: registered, onlyScenario: options.onlyScenario });
  const routing: RoutingScenario[] = sets.routing;
  const byId = sets.routedById;
  const held = { missingScenarios: sets.missing, ingestHeld: options.planOnly ? undefined : sets.ingestHeld };

  // 2. Ingest: a page of events at a time, routed in order.
  for (;;) {
    if (options.planOnly || sets.ingestHeld) break;
    const page = await store.ingestClaim({ now: options.now(), owner, limit: pageSize, leaseSeconds });
    for (const [reason, n] of page.setAsideReasons) counts.noteSetAside(reason, n);
    counts.eventsWaitingLink += page.waitingLink;
    // A page whose events were all set aside (or wait for a link) is not the last one.
    if (!page.events.length) {
      if (page.more) continue;
      break;
    }
    const enrollmentsByUser = new Map<string, EnrollmentSummary[]>();
    for (const e of page.enrollments) {
      const list = enrollmentsByUser.get(e.userId) ?? [];
      list.push(e);
      enrollmentsByUser.set(e.userId, list);
    }
    const enroll: Parameters<Store['ingestCommit']>[0]['enroll'] = [];
    const pendingById = new Map<string, (typeof enroll)[number]>();
    // The last trigger of a key wins: one update per enrollment.
    const updates = new Map<string, { enrollment_id: string; trigger: Record<string, unknown>; trigger_event_id: string }>();
    const exit: { enrollment_id: string; reason: string }[] = [];
    const wake: string[] = [];
    const setAside: SetAsideEvent[] = [];
    // Each event is routed with its user as of that event, as if events came one at a time:
    // a user's facts start from before their first change in this page and follow each
    // change. (With the page's final facts, a follow and a later unfollow in one page
    // enrolled no one, and in two pages enrolled then exited: where a page split decided.)
    const asOf = new Map<string, UserFacts>();
    for (const e of page.events) if (e.factsBefore && !asOf.has(e.userId)) asOf.set(e.userId, e.factsBefore);
    for (const event of page.events) {
      if (event.factsAfter) asOf.set(event.userId, event.factsAfter);
      const user = asOf.get(event.userId) ?? factsOf(page.users, event.userId);
      const mine = enrollmentsByUser.get(event.userId) ?? [];
      let routed: RouteResult;
      try {
        routed = routeEvent({ event, user, scenarios: routing, enrollments: mine });
      } catch (error) {
        // One event routing cannot handle (a property it cannot compare) stops only itself.
        setAside.push({ id: event.id, reason: `${event.type}: routing failed (${failureReason(error)}); it enrolled and ended no one` });
        continue;
      }
      for (const x of routed.exit) {
        const summary = mine.find((e) => e.id === x.enrollmentId);
        if (summary) summary.status = 'exited';
        const pending = pendingById.get(x.enrollmentId);
        const convertedAt = x.convertedAt === undefined ? {} : { converted_at: x.convertedAt };
        if (pending) Object.assign(pending, { status: 'exited', exit_reason: x.reason, ...convertedAt });
        else exit.push({ enrollment_id: x.enrollmentId, reason: x.reason, ...convertedAt });
        counts.add(summary?.scenarioId ?? pending?.scenario_id ?? '?', undefined, 'exited');
        if (x.convertedAt !== undefined) counts.add(summary?.scenarioId ?? pending?.scenario_id ?? '?', undefined, 'conversions');
      }
      wake.push(...routed.wake.filter((id) => !pendingById.has(id)));
      for (const u of routed.update) {
        const pending = pendingById.get(u.enrollmentId);
        if (pending) Object.assign(pending, { trigger: u.trigger, trigger_event_id: event.id });
        else updates.set(u.enrollmentId, { enrollment_id: u.enrollmentId, trigger: u.trigger, trigger_event_id: event.id });
      }
      for (const n of routed.enroll) {
        const compiled = byId.get(n.scenarioId)!;
        const tempId = `new-${randomUUID()}`;
        const row = { scenario_id: n.scenarioId, line_user_id: event.userId, step_id: compiled.first, entered_at: n.enteredAt, trigger: n.trigger, trigger_event_id: event.id, scenario_hash: compiled.hash, enrollment_key: n.key ?? null };
        enroll.push(row);
        pendingById.set(tempId, row);
        // Later events of this page see it (an exit in the same page ends it).
        mine.push({ id: tempId, scenarioId: n.scenarioId, status: 'active', enteredAt: n.enteredAt, key: n.key });
        enrollmentsByUser.set(event.userId, mine);
        counts.add(n.scenarioId, undefined, 'enrolled');
      }
    }
    const asideIds = new Set(setAside.map((x) => x.id));
    const done = page.events.filter((e) => !asideIds.has(e.id)).map((e) => e.id);
    await store.ingestCommit({ now: options.now(), owner, done, enroll, exit, wake, update: [...updates.values()], setAside });
    for (const x of setAside) counts.noteSetAside(x.reason);
    counts.eventsTaken += done.length;
    options.progress?.('events', counts.eventsTaken);
    if (!page.more) break;
  }
  if (options.stopAfter === 'ingest') return { counts, attention: emptyAttention(), previousRunAt: run.previous_started_at, runId: run.id, ...held };
  // Batches planned from here on know all this tick took in; older ones are checked before sending.
  const planningFrom = options.now();

  // 3. Plan: a page of due enrollments at a time; each page commits in one transaction.
  const eventTypes = relevantEventTypes(scenarios);
  const previous = new Map<string, CompiledScenario>();
  const cap = options.frequencyCap;
  let planned = 0;
  // Lanes: pages claimed and committed side by side over separate connections. Each lane
  // takes its own share of users (a finer shard of this tick's shard), so a user's pages
  // stay in order in one lane and the frequency cap sees every earlier page's sends.
  const lanes = options.planOnly ? 1 : Math.max(1, Math.min(8, options.lanes ?? store.lanes));
  const planLane = async (laneShardIndex: number, laneShardCount: number): Promise<void> => {
    for (;;) {
      if (options.maxMessages !== undefined && counts.recipientsPlanned >= options.maxMessages) {
        counts.heldBackByMaxMessages = true;
        break;
      }
      const now = options.now();
      const page = await store.claimDue({ now, owner, limit: pageSize, leaseSeconds, shardIndex: laneShardIndex, shardCount: laneShardCount, eventTypes, capSince: cap ? localMidnight(now, cap.timezone) : undefined, scenarioIds: sets.claimIds });
      if (!page.enrollments.length) break;
      const claimedIds = page.enrollments.map((e) => e.id);
      leases.holdEnrollments(claimedIds);
      for (const d of page.previousDefinitions) {
        if (!previous.has(d.hash)) previous.set(d.hash, compileScenario(d.definition as Scenario));
      }
      // Plan every claimed enrollment, then let the frequency cap defer what would exceed it.
      const planned_: { enrollment: (typeof page.enrollments)[number]; compiled: CompiledScenario; plan: Plan }[] = [];
      const plans: PlanCommit[] = [];
      for (const enrollment of page.enrollments) {
        const compiled = sets.plannable.get(enrollment.scenarioId);
        if (sets.retired.has(enrollment.scenarioId)) {
          // Retired on purpose: its users leave, and receive nothing more from it.
          plans.push({ id: enrollment.id, status: 'exited', step_id: enrollment.stepId, previous_at: enrollment.previousAt, wait_started_at: null, waiting_for: null, due_at: null, scenario_hash: enrollment.scenarioHash, converted_at: null, exit_reason: RETIRED_REASON });
          counts.add(enrollment.scenarioId, undefined, 'exited');
          continue;
        }
        // Not claimed for a scenario this tick does not plan; were it, it stays leased and
        // unchanged (held) until the lease runs out: a missing file never ends anyone.
        if (!compiled) continue;
        const runtime: ScenarioRuntime = { compiled, activatedAt: activatedAt.get(compiled.id)!, previous, linkSigner: options.linkSigner };
        const user = factsOf(page.users, enrollment.userId);
        planned_.push({ enrollment, compiled, plan: planAlone({ scenario: runtime, enrollment, user, events: page.eventsByUser.get(enrollment.userId) ?? [], now }) });
      }
      const capped = cap ? applyFrequencyCap(planned_, cap, new Map(), page.sentCounts) : new Set<string>();
      const skipped: SkippedStep[] = [];
      const sends: { enrollmentId: string; userId: string; scenarioId: string; decision: Extract<Decision, { kind: 'send' }> }[] = [];
      for (const { enrollment, compiled, plan } of planned_) {
        if (capped.has(enrollment.id)) {
          // Deferred, never dropped: the same plan is made again tomorrow, with the same moments,
          // from the scenario's opening (a step sent at any hour, like a welcome, not at midnight).
          plans.push({ id: enrollment.id, status: 'active', step_id: enrollment.stepId, previous_at: enrollment.previousAt, wait_started_at: enrollment.waitStartedAt ?? null, waiting_for: null, due_at: applyWindow(nextLocalMidnight(now, cap!.timezone), compiled.scenario.sendWindow, userTimeZone(factsOf(page.users, enrollment.userId), compiled.timezone)), scenario_hash: enrollment.scenarioHash, converted_at: null, exit_reason: null });
          for (const d of plan.decisions) if (d.kind === 'send') counts.add(compiled.id, d.stepId, 'capped');
          continue;
        }
        plans.push(toCommit(plan));
        if (plan.conversionAt !== undefined) counts.add(compiled.id, undefined, 'conversions');
        if (plan.outcome.kind === 'exit') counts.add(compiled.id, undefined, 'exited');
        if (plan.outcome.kind === 'finish') counts.add(compiled.id, undefined, 'finished');
        for (const d of plan.decisions) {
          if (d.kind === 'send') {
            sends.push({ enrollmentId: enrollment.id, userId: enrollment.userId, scenarioId: compiled.id, decision: d });
            counts.recipientsPlanned++;
          } else if (d.kind === 'expire' || d.kind === 'fail') {
            skipped.push({ enrollment_id: enrollment.id, scenario_id: compiled.id, step_id: d.stepId, line_user_id: enrollment.userId, kind: d.kind, due_at: d.kind === 'expire' ? d.dueAt : plan.state.previousAt, reason: d.reason });
            counts.add(compiled.id, d.stepId, d.kind === 'expire' ? 'expired' : 'failed');
            if (d.kind === 'fail') counts.noteFailure(compiled.id, d.stepId, d.reason);
          } else {
            counts.add(compiled.id, d.stepId, 'branched');
          }
        }
      }
      const batches = toBatches(sends);
      if (options.planOnly) {
        for (const b of batches) counts.add(b.scenario_id, b.step_id, 'planned', b.members.length);
        await store.release(owner, page.enrollments.map((e) => e.id));
        planned += page.enrollments.length;
        // Released rows are due again: one page is what a plan-only run can show without looping.
        break;
      }
      const committed = await store.commitPlans({ now, owner, plans, skipped, batches });
      leases.releaseEnrollments(claimedIds);
      counts.lostLeases += committed.lost;
      planned += page.enrollments.length;
      options.progress?.('enrollments planned', planned);
      if (page.enrollments.length < pageSize) break;
    }
  };
  // Leases held by this tick are renewed while it runs: a long tick keeps its work in flight.
  const leases = new LeaseKeeper({ store, owner, leaseSeconds, now: options.now }).start();
  const lanesDone = Promise.all(Array.from({ length: lanes }, (_, lane) => planLane(shardIndex + shardCount * lane, shardCount * lanes)));
  await lanesDone.catch(async (error: unknown) => {
    await leases.stop();
    throw error;
  });
  if (options.stopAfter === 'commit' || options.planOnly) {
    await leases.stop();
    const attention = options.planOnly ? await store.runFinish({ now: options.now(), id: run.id, counts: counts.toJSON(), status: 'plan only' }) : emptyAttention();
    return { counts, attention, previousRunAt: run.previous_started_at, runId: run.id, ...held };
  }

  // 4. Send what the outbox holds (this tick's batches and any left by an earlier one).
  const outbox = new OutboxSender({ store, sender, owner, now: options.now, counts, leaseSeconds, leases, quotaReserve: options.quotaReserve ?? 0, scenarioIds: sets.claimIds, scenarios: sets.plannable, checkedBefore: planningFrom });
  const stoppedBy = await outbox.run().finally(() => leases.stop());

  const attention = await store.runFinish({ now: options.now(), id: run.id, counts: counts.toJSON(), status: stoppedBy ? `stopped: ${stoppedBy}` : 'ok' });
  return { counts, attention, previousRunAt: run.previous_started_at, stoppedBy, runId: run.id, ...held };
}

/**
 * Plans one enrollment; if the planner throws on it (data it cannot handle), that enrollment
 * fails alone: its step is recorded as failed with the reason (counted, shown in the summary)
 * and it ends, exited with "failed: …", instead of crashing the tick and being claimed
 * again after every lease.
 */
export function planAlone(input: PlanInput): Plan {
  try {
    return planEnrollment(input);
  } catch (error) {
    const { stepId } = input.enrollment;
    const reason = `the planner failed on this enrollment (${failureReason(error)})`;
    return { decisions: [{ kind: 'fail', stepId, reason }], outcome: { kind: 'exit', reason: `failed: step "${stepId}": ${reason}` }, state: { ...input.enrollment } };
  }
}

/** A user the store has no row for yet: following (LINE answers 200 even if not), no attributes. */
function factsOf(users: Map<string, UserFacts>, userId: string): UserFacts {
  return users.get(userId) ?? { userId, following: true, attributes: {}, answers: {} };
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
    .map((p) => ({ ...p, sends: p.plan.decisions.filter((d) => d.kind === 'send') as Extract<Decision, { kind: 'send' }>[] }))
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

function toCommit(plan: Plan): PlanCommit {
  const { state, outcome } = plan;
  const status = outcome.kind === 'wait' ? 'active' : outcome.kind === 'finish' ? 'finished' : 'exited';
  return {
    id: state.id,
    status,
    step_id: state.stepId,
    previous_at: state.previousAt,
    wait_started_at: state.waitStartedAt ?? null,
    waiting_for: outcome.kind === 'wait' ? (outcome.waitingFor ?? null) : null,
    due_at: outcome.kind === 'wait' && Number.isFinite(outcome.until) ? outcome.until : null,
    scenario_hash: state.scenarioHash,
    converted_at: plan.conversionAt ?? null,
    exit_reason: outcome.kind === 'exit' ? outcome.reason : null,
  };
}

/**
 * Groups sends into LINE requests: identical messages of one step go together by
 * multicast, 500 recipients at most; personalized ones go by push, one per recipient.
 */
export function toBatches(sends: { enrollmentId: string; userId: string; scenarioId: string; decision: Extract<Decision, { kind: 'send' }> }[]): BatchDraft[] {
  const batches: BatchDraft[] = [];
  const groups = new Map<string, BatchDraft[]>();
  // Two keyed enrollments of one user (two bookings) may send the same step in one tick:
  // a user appears at most once in a multicast, so the second goes into another batch.
  const usersOf = new Map<BatchDraft, Set<string>>();
  for (const s of sends) {
    const d = s.decision;
    const member = { enrollment_id: s.enrollmentId, line_user_id: s.userId, due_at: d.dueAt };
    if (!d.uniform) {
      batches.push({ id: randomUUID(), scenario_id: s.scenarioId, step_id: d.stepId, kind: 'push', messages: d.messages, aggregation_unit: d.aggregationUnit, members: [member] });
      continue;
    }
    const key = `${s.scenarioId}\u0000${d.stepId}\u0000${canonicalJson(d.messages)}`;
    const open = groups.get(key) ?? [];
    groups.set(key, open);
    const fits = (b: BatchDraft) => b.members.length < LINE_LIMITS.multicastRecipients && !usersOf.get(b)!.has(s.userId);
    // The newest batch of the group, else (a user met twice) any earlier one with room.
    let batch = open.length && fits(open[open.length - 1]!) ? open[open.length - 1] : open.find(fits);
    if (!batch) {
      batch = { id: randomUUID(), scenario_id: s.scenarioId, step_id: d.stepId, kind: 'multicast', messages: d.messages, aggregation_unit: d.aggregationUnit, members: [] };
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
