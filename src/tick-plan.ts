// Planning one page of due enrollments, with no I/O: each enrollment's plan, the frequency
// cap's deferrals, the steps skipped, and the sends grouped into outbox batches. The tick
// commits the result; a what-if only counts it.
import { compileScenario, type CompiledScenario } from './scenario/compile.js';
import type { Scenario } from './scenario/schema.js';
import { planEnrollment, userTimeZone, type PlanInput, type ScenarioRuntime } from './planner/plan.js';
import { applyWindow } from './planner/timing.js';
import type { Decision, Plan, UserFacts } from './planner/types.js';
import type { LinkSigner } from './planner/render.js';
import type { ActDraft, BatchDraft, ClaimedEnrollment, DuePage, PlanCommit, SkippedStep } from './store/store.js';
import { applyChange } from './planner/actions.js';
import { richMenuBatches, type PlannedAct } from './tick-actions.js';
import type { TickCounts } from './report/counts.js';
import { failureReason } from './report/public-error.js';
import { RETIRED_REASON, type TickScenarios } from './tick-scenarios.js';
import { applyFrequencyCap, nextLocalMidnight, toBatches, type FrequencyCap } from './tick.js';
import { newUser } from './tick-ingest.js';

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
  const { sets, counts, cap } = ctx;
  for (const d of page.previousDefinitions) {
    if (!ctx.previous.has(d.hash)) ctx.previous.set(d.hash, compileScenario(d.definition as Scenario));
  }
  // One facts object per user for the page: an action step's change is seen by the user's
  // enrollments planned after it. (A plan the frequency cap then defers was seen too: its
  // action is done when it is planned again.)
  const shared = new Map<string, UserFacts>();
  const factsOf = (userId: string): UserFacts => {
    let facts = shared.get(userId);
    if (!facts) {
      facts = options.users?.get(userId) ?? page.users.get(userId) ?? newUser(userId);
      shared.set(userId, facts);
    }
    return facts;
  };
  // Plan every claimed enrollment, then let the frequency cap defer what would exceed it.
  const planned: { enrollment: ClaimedEnrollment; compiled: CompiledScenario; plan: Plan }[] = [];
  const plans: PlanCommit[] = [];
  for (const enrollment of page.enrollments) {
    const compiled = sets.plannable.get(enrollment.scenarioId);
    if (sets.retired.has(enrollment.scenarioId)) {
      // Retired on purpose: its users leave, and receive nothing more from it.
      plans.push({
        id: enrollment.id,
        status: 'exited',
        step_id: enrollment.stepId,
        previous_at: enrollment.previousAt,
        wait_started_at: null,
        waiting_for: null,
        due_at: null,
        scenario_hash: enrollment.scenarioHash,
        converted_at: null,
        exit_reason: RETIRED_REASON,
      });
      counts.add(enrollment.scenarioId, undefined, 'exited');
      continue;
    }
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
    const plan = planAlone({
      scenario: runtime,
      enrollment,
      user,
      events: page.eventsByUser.get(enrollment.userId) ?? [],
      now,
    });
    for (const d of plan.decisions) {
      if (d.kind !== 'act') continue;
      const applied = applyChange(user.attributes, d);
      if ('attributes' in applied) user.attributes = applied.attributes;
    }
    planned.push({ enrollment, compiled, plan });
  }
  const capped = cap
    ? applyFrequencyCap(planned, cap, options.sentInTick ?? new Map<string, number>(), page.sentCounts)
    : new Set<string>();
  const skipped: SkippedStep[] = [];
  const sends: {
    enrollmentId: string;
    userId: string;
    scenarioId: string;
    decision: Extract<Decision, { kind: 'send' }>;
  }[] = [];
  const acts: PlannedAct[] = [];
  for (const { enrollment, compiled, plan } of planned) {
    if (capped.has(enrollment.id)) {
      // Deferred, never dropped: the same plan is made again tomorrow, with the same moments,
      // from the scenario's opening (a step sent at any hour, like a welcome, not at midnight).
      const zone = userTimeZone(factsOf(enrollment.userId), compiled.timezone);
      plans.push({
        id: enrollment.id,
        status: 'active',
        step_id: enrollment.stepId,
        previous_at: enrollment.previousAt,
        wait_started_at: enrollment.waitStartedAt ?? null,
        waiting_for: null,
        due_at: applyWindow(nextLocalMidnight(now, cap!.timezone), compiled.scenario.sendWindow, zone),
        scenario_hash: enrollment.scenarioHash,
        converted_at: null,
        exit_reason: null,
      });
      for (const d of plan.decisions) if (d.kind === 'send') counts.add(compiled.id, d.stepId, 'capped');
      continue;
    }
    const commit = toCommit(plan);
    plans.push(commit);
    if (plan.conversionAt !== undefined) counts.add(compiled.id, undefined, 'conversions');
    if (plan.outcome.kind === 'exit') counts.add(compiled.id, undefined, 'exited');
    if (plan.outcome.kind === 'finish') counts.add(compiled.id, undefined, 'finished');
    for (const d of plan.decisions) {
      if (d.kind === 'send') {
        sends.push({ enrollmentId: enrollment.id, userId: enrollment.userId, scenarioId: compiled.id, decision: d });
        counts.recipientsPlanned++;
      } else if (d.kind === 'act') {
        const act: ActDraft = {
          enrollment_id: enrollment.id,
          scenario_id: compiled.id,
          step_id: d.stepId,
          line_user_id: enrollment.userId,
          due_at: d.dueAt,
          tags: d.tags,
          attributes: d.attributes,
          batch_id: null,
        };
        (commit.acts ??= []).push(act);
        if (d.richMenu) acts.push({ act, richMenu: d.richMenu });
        counts.add(compiled.id, d.stepId, 'acted');
        counts.noteAction(d);
      } else if (d.kind === 'expire' || d.kind === 'fail') {
        skipped.push({
          enrollment_id: enrollment.id,
          scenario_id: compiled.id,
          step_id: d.stepId,
          line_user_id: enrollment.userId,
          kind: d.kind,
          due_at: d.kind === 'expire' ? d.dueAt : plan.state.previousAt,
          reason: d.reason,
        });
        counts.add(compiled.id, d.stepId, d.kind === 'expire' ? 'expired' : 'failed');
        if (d.kind === 'fail') counts.noteFailure(compiled.id, d.stepId, d.reason);
      } else {
        counts.add(compiled.id, d.stepId, 'branched');
      }
    }
  }
  return { plans, skipped, batches: [...toBatches(sends), ...richMenuBatches(acts)] };
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
