// Planning one page of due enrollments, with no I/O: each enrollment's plan, the frequency
// cap's deferrals, the steps skipped, and the sends grouped into outbox batches. The tick
// commits the result; a what-if only counts it.
import { compileScenario, type CompiledScenario } from '../../scenario/compile.js';
import type { Scenario } from '../../scenario/schema.js';
import { planEnrollment, userTimeZone, type PlanInput, type ScenarioRuntime } from '../../planner/plan.js';
import { applyWindow } from '../../planner/timing.js';
import type { Plan, UserFacts } from '../../planner/types.js';
import type { LinkSigner } from '../../planner/render.js';
import type { ActDraft, BatchDraft, ClaimedEnrollment, DuePage, PlanCommit, SkippedStep } from '../../domain.js';
import { applyChange } from '../../planner/actions.js';
import { richMenuBatches, toBatches, type PlannedAct, type PlannedSend } from '../../line/batching.js';
import type { TickCounts } from '../counts.js';
import { failureReason } from '../../contract/public-error.js';
import { RETIRED_REASON, type TickScenarios } from './scenarios.js';
import { applyFrequencyCap, nextLocalMidnight, type FrequencyCap } from './frequency-cap.js';
import { newUser } from './route-page.js';

export interface PlanContext {
  sets: TickScenarios;
  activatedAt: Map<string, number>;
  /** Definitions of earlier versions, by hash (filled as pages name them). */
  previous: Map<string, CompiledScenario>;
  linkSigner?: LinkSigner | undefined;
  cap?: FrequencyCap | undefined;
  counts: TickCounts;
}

export interface PlannedPage {
  plans: PlanCommit[];
  skipped: SkippedStep[];
  batches: BatchDraft[];
}

type Planned = { enrollment: ClaimedEnrollment; compiled: CompiledScenario; plan: Plan };

/**
 * Plans a claimed (or, in a what-if, read) page. sentInTick: what earlier pages of this tick
 * sent per user and have not committed (a what-if; a tick's committed pages are counted by
 * the store). users: facts that override the page's (a what-if's in-memory ones).
 */
export function planPage(
  page: DuePage,
  now: number,
  ctx: PlanContext,
  options: { sentInTick?: Map<string, number>; users?: Map<string, UserFacts> } = {},
): PlannedPage {
  for (const d of page.previousDefinitions) {
    if (!ctx.previous.has(d.hash)) ctx.previous.set(d.hash, compileScenario(d.definition as Scenario));
  }
  const factsOf = pageFacts(page, options.users);
  // Plan every claimed enrollment, then let the frequency cap defer what would exceed it.
  const out = new PageOutput(ctx.counts);
  const planned = planEnrollments(page, now, ctx, factsOf, out);
  const capped = ctx.cap
    ? applyFrequencyCap(planned, ctx.cap, options.sentInTick ?? new Map<string, number>(), page.sentCounts)
    : new Set<string>();
  for (const p of planned) {
    if (capped.has(p.enrollment.id)) out.defer(p, cappedDueAt(p.compiled, factsOf(p.enrollment.userId), now, ctx.cap!));
    else out.take(p);
  }
  return out.finish();
}

/**
 * One facts object per user for the page: an action step's change is seen by the user's
 * enrollments planned after it. (A plan the frequency cap then defers was seen too: its
 * action is done when it is planned again.)
 */
function pageFacts(page: DuePage, users: Map<string, UserFacts> | undefined): (userId: string) => UserFacts {
  const shared = new Map<string, UserFacts>();
  return (userId) => {
    let facts = shared.get(userId);
    if (!facts) {
      facts = users?.get(userId) ?? page.users.get(userId) ?? newUser(userId);
      shared.set(userId, facts);
    }
    return facts;
  };
}

/** Each enrollment of the page planned in order; a retired scenario's users leave. */
function planEnrollments(
  page: DuePage,
  now: number,
  ctx: PlanContext,
  factsOf: (userId: string) => UserFacts,
  out: PageOutput,
): Planned[] {
  const planned: Planned[] = [];
  for (const enrollment of page.enrollments) {
    // Retired on purpose: its users leave, and receive nothing more from it.
    if (ctx.sets.retired.has(enrollment.scenarioId)) {
      out.retire(enrollment);
      continue;
    }
    const compiled = ctx.sets.plannable.get(enrollment.scenarioId);
    // Not claimed for a scenario this tick does not plan; were it, it stays leased and
    // unchanged (held) until the lease runs out: a missing file never ends anyone.
    if (!compiled) continue;
    const runtime: ScenarioRuntime = {
      compiled,
      activatedAt: ctx.activatedAt.get(compiled.id)!,
      previous: ctx.previous,
      linkSigner: ctx.linkSigner,
    };
    const user = factsOf(enrollment.userId);
    const events = page.eventsByUser.get(enrollment.userId) ?? [];
    const plan = planAlone({ scenario: runtime, enrollment, user, events, now });
    for (const d of plan.decisions) {
      if (d.kind !== 'act') continue;
      const applied = applyChange(user.attributes, d);
      if ('attributes' in applied) user.attributes = applied.attributes;
    }
    planned.push({ enrollment, compiled, plan });
  }
  return planned;
}

/**
 * Deferred by the cap, never dropped: the same plan is made again tomorrow, with the same
 * moments, from the scenario's opening (a step sent at any hour, like a welcome, not at midnight).
 */
function cappedDueAt(compiled: CompiledScenario, user: UserFacts, now: number, cap: FrequencyCap): number {
  const zone = userTimeZone(user, compiled.timezone);
  return applyWindow(nextLocalMidnight(now, cap.timezone), compiled.scenario.sendWindow, zone);
}

/** What a page's plans commit: the enrollments' new states, the steps skipped, the sends and acts. */
class PageOutput {
  private readonly plans: PlanCommit[] = [];
  private readonly skipped: SkippedStep[] = [];
  private readonly sends: PlannedSend[] = [];
  private readonly acts: PlannedAct[] = [];

  constructor(private readonly counts: TickCounts) {}

  retire(enrollment: ClaimedEnrollment): void {
    this.plans.push({
      ...unchanged(enrollment),
      status: 'exited',
      waitStartedAt: null,
      dueAt: null,
      exitReason: RETIRED_REASON,
    });
    this.counts.add(enrollment.scenarioId, undefined, 'exited');
  }

  /** The cap deferred this plan: the enrollment stays where it is, due again at dueAt. */
  defer({ enrollment, compiled, plan }: Planned, dueAt: number): void {
    this.plans.push({ ...unchanged(enrollment), status: 'active', dueAt });
    for (const d of plan.decisions) if (d.kind === 'send') this.counts.add(compiled.id, d.stepId, 'capped');
  }

  take({ enrollment, compiled, plan }: Planned): void {
    const { counts } = this;
    const commit = toCommit(plan);
    this.plans.push(commit);
    if (plan.conversionAt !== undefined) counts.add(compiled.id, undefined, 'conversions');
    if (plan.outcome.kind === 'exit') counts.add(compiled.id, undefined, 'exited');
    if (plan.outcome.kind === 'finish') counts.add(compiled.id, undefined, 'finished');
    const mine = { enrollmentId: enrollment.id, userId: enrollment.userId, scenarioId: compiled.id };
    for (const d of plan.decisions) {
      if (d.kind === 'send') {
        this.sends.push({ ...mine, decision: d });
        counts.recipientsPlanned++;
      } else if (d.kind === 'act') {
        const act: ActDraft = {
          ...mine,
          stepId: d.stepId,
          dueAt: d.dueAt,
          tags: d.tags,
          attributes: d.attributes,
          batchId: null,
        };
        (commit.acts ??= []).push(act);
        if (d.richMenu) this.acts.push({ act, richMenu: d.richMenu });
        counts.add(compiled.id, d.stepId, 'acted');
        counts.noteAction(d);
      } else if (d.kind === 'expire' || d.kind === 'fail') {
        const dueAt = d.kind === 'expire' ? d.dueAt : plan.state.previousAt;
        this.skipped.push({ ...mine, stepId: d.stepId, kind: d.kind, dueAt, reason: d.reason });
        counts.add(compiled.id, d.stepId, d.kind === 'expire' ? 'expired' : 'failed');
        if (d.kind === 'fail') counts.noteFailure(compiled.id, d.stepId, d.reason);
      } else if (d.kind === 'holdout') {
        // Recorded as a skipped step of its own kind: the report counts the held out by it.
        this.skipped.push({ ...mine, stepId: d.stepId, kind: 'holdout', dueAt: d.dueAt, reason: 'held out' });
        counts.add(compiled.id, d.stepId, 'heldOut');
      } else {
        counts.add(compiled.id, d.stepId, 'branched');
      }
    }
  }

  finish(): PlannedPage {
    return {
      plans: this.plans,
      skipped: this.skipped,
      batches: [...toBatches(this.sends), ...richMenuBatches(this.acts)],
    };
  }
}

/** An enrollment's commit that leaves it where it was (nothing converted, no exit). */
function unchanged(e: ClaimedEnrollment): Omit<PlanCommit, 'status' | 'dueAt'> {
  return {
    id: e.id,
    stepId: e.stepId,
    previousAt: e.previousAt,
    waitStartedAt: e.waitStartedAt ?? null,
    waitingFor: null,
    scenarioHash: e.scenarioHash,
    convertedAt: null,
    exitReason: null,
  };
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
    return {
      decisions: [{ kind: 'fail', stepId, reason }],
      outcome: { kind: 'exit', reason: `failed: step "${stepId}": ${reason}` },
      state: { ...input.enrollment },
    };
  }
}

function toCommit(plan: Plan): PlanCommit {
  const { state, outcome } = plan;
  const status = outcome.kind === 'wait' ? 'active' : outcome.kind === 'finish' ? 'finished' : 'exited';
  return {
    id: state.id,
    status,
    stepId: state.stepId,
    previousAt: state.previousAt,
    waitStartedAt: state.waitStartedAt ?? null,
    waitingFor: outcome.kind === 'wait' ? (outcome.waitingFor ?? null) : null,
    dueAt: outcome.kind === 'wait' && Number.isFinite(outcome.until) ? outcome.until : null,
    scenarioHash: state.scenarioHash,
    convertedAt: plan.conversionAt ?? null,
    exitReason: outcome.kind === 'exit' ? outcome.reason : null,
  };
}
