// The planner: given a scenario, one enrollment, the user's facts and events, and the
// time now, decides what happens to that enrollment in this tick. Pure: no I/O, no clock.
//
// Every step has a moment computed from the scenario (not from when a tick happened to
// run), and every condition and exit looks only at events up to that moment. So the
// steps, branches and arms an enrollment goes through do not depend on how time is cut
// into ticks; only the send times do.
import type { CompiledScenario, CompiledStep } from '../scenario/compile.js';
import {
  END,
  type ActionStep,
  type BranchStep,
  type MessageStep,
  type Scenario,
  type SplitStep,
  type Step,
  type WaitStep,
} from '../scenario/schema.js';
import { isValidTimeZone } from '../time/zoned.js';
import { actionChange, applyChange, changesFacts, type ActionChange } from './actions.js';
import { conditionContext, evaluate, firstMatchingEvent } from './conditions.js';
import { concernsKey, enrollmentKey } from './keys.js';
import { renderMessages, type LinkSigner } from './render.js';
import { chooseArm } from './split.js';
import { isHeldOut } from './holdout.js';
import { applyWindow, durationMs, stepMoment, stepWindow } from './timing.js';
import type { Decision, EnrollmentState, EventFact, Outcome, Plan, UserFacts } from './types.js';

export interface ScenarioRuntime {
  compiled: CompiledScenario;
  /**
   * When the scenario first ran. A step whose moment is earlier expires instead of going
   * out, so switching a scenario on (or backfilling it) never sends a storm of past-due steps.
   */
  activatedAt: number;
  /** Earlier definitions by hash, to place enrollments whose step an edit removed. */
  previous?: ReadonlyMap<string, CompiledScenario> | undefined;
  /** Signs tracked links ({{link.x}}) for the click function. */
  linkSigner?: LinkSigner | undefined;
}

export interface PlanInput {
  scenario: ScenarioRuntime;
  enrollment: EnrollmentState;
  user: UserFacts;
  /** The user's events since the entry, oldest first. */
  events: readonly EventFact[];
  now: number;
}

/** Upper bound of steps passed in one plan: a loop always waits, so this is never reached by a valid scenario. */
const MAX_STEPS_PER_PLAN = 200;

export function userTimeZone(user: UserFacts, fallback: string): string {
  const tz = user.attributes.timezone;
  return typeof tz === 'string' && tz !== fallback && isValidTimeZone(tz) ? tz : fallback;
}

/** Where a step goes when it is skipped (expired, failed) or passed without a choice. */
function passOn(cs: CompiledStep): string {
  const step = cs.step;
  if (step.type === 'branch') return step.default ?? END;
  if (step.type === 'split') return step.arms[0]!.next;
  return cs.next;
}

/** The first remaining step after a removed one, following the definition it was removed from. */
function relocate(stepId: string, old: CompiledScenario | undefined, current: CompiledScenario): string | undefined {
  if (!old) return undefined;
  let id = stepId;
  for (let n = 0; n <= old.order.length; n++) {
    const oldStep = old.steps.get(id);
    if (!oldStep) return undefined;
    id = passOn(oldStep);
    if (id === END || current.steps.has(id)) return id;
  }
  return undefined;
}

/**
 * One enrollment being planned: what its steps read, and what they change as the walk goes on.
 * Steps that end the plan return it; a step that passes the enrollment on returns undefined.
 */
interface Walk {
  readonly runtime: ScenarioRuntime;
  readonly compiled: CompiledScenario;
  readonly now: number;
  readonly tz: string;
  /** The user's events since the entry, oldest first: what branch conditions count. */
  readonly events: readonly EventFact[];
  /** With an enrollment key, exits and waits count only the events of this key (or of none). */
  readonly own: readonly EventFact[];
  /** The user as later steps see them: an action step's tags and attributes apply at once. */
  user: UserFacts;
  readonly state: EnrollmentState;
  /** In the scenario's holdout group: message steps and rich menu changes are held out, nothing is sent. */
  readonly heldOut: boolean;
  readonly decisions: Decision[];
  /** The goal, reached in this plan: when. */
  conversionAt: number | undefined;
  /** The goal ends the enrollment from the step whose moment follows it (Infinity: not reached, or exit: false). */
  goalExitAt: number;
}

export function planEnrollment(input: PlanInput): Plan {
  const { scenario: runtime, now } = input;
  const { compiled } = runtime;
  const state: EnrollmentState = { ...input.enrollment };
  const walk: Walk = {
    runtime,
    compiled,
    now,
    tz: userTimeZone(input.user, compiled.timezone),
    events: input.events,
    own: ownEvents(compiled.scenario, state.trigger, input.events),
    user: input.user,
    state,
    heldOut: isHeldOut(input.user.userId, compiled.id, compiled.scenario.holdout),
    decisions: [],
    conversionAt: undefined,
    goalExitAt: Infinity,
  };
  if (!input.user.following) return exit(walk, 'unfollowed');
  const removed = moveOffRemovedStep(state, runtime);
  if (removed) return exit(walk, removed);
  state.scenarioHash = compiled.hash;
  seeGoal(walk);
  if (compiled.scenario.status === 'paused') return done(walk, { kind: 'wait', until: Infinity });
  for (let n = 0; n < MAX_STEPS_PER_PLAN; n++) {
    const ended = planStep(walk);
    if (ended) return ended;
  }
  return exit(walk, 'the scenario passed too many steps in one tick');
}

function done(walk: Walk, outcome: Outcome): Plan {
  const { decisions, state, conversionAt } = walk;
  return conversionAt === undefined ? { decisions, outcome, state } : { decisions, outcome, state, conversionAt };
}

function exit(walk: Walk, reason: string): Plan {
  return done(walk, { kind: 'exit', reason });
}

/** Why the enrollment leaves before `moment` (an exit rule, or the goal with exit), if it does. */
function exitBefore(walk: Walk, moment: number): string | undefined {
  return exitReasonBefore(walk.compiled.scenario, walk.own, walk.state.enteredAt, walk.goalExitAt, moment);
}

/**
 * An edit removed the step this enrollment waits for: it moves to the first remaining step after it
 * (unless onStepRemoved is "end"). Returns the exit reason when it cannot.
 */
function moveOffRemovedStep(state: EnrollmentState, runtime: ScenarioRuntime): string | undefined {
  const { compiled } = runtime;
  if (state.stepId === END || compiled.steps.has(state.stepId)) return undefined;
  const moved =
    compiled.scenario.onStepRemoved === 'end'
      ? undefined
      : relocate(state.stepId, runtime.previous?.get(state.scenarioHash), compiled);
  if (moved === undefined) return `step "${state.stepId}" was removed from the scenario`;
  state.stepId = moved;
  state.waitStartedAt = undefined;
  return undefined;
}

/** The goal counts once, whenever it is seen; it ends the enrollment (unless exit: false) only from the step whose moment follows it. */
function seeGoal(walk: Walk): void {
  const { state, now } = walk;
  const { scenario } = walk.compiled;
  const goal = scenario.goal;
  if (!goal || walk.events.length === 0) return;
  const until = goal.within ? state.enteredAt + durationMs(goal.within) : Infinity;
  const reached = firstMatchingEvent(notUpdates(scenario, state.trigger, walk.events), goal, {
    after: state.enteredAt,
    through: Math.min(until, now),
  });
  if (!reached) return;
  if (!state.converted) {
    state.converted = true;
    walk.conversionAt = reached.occurredAt;
  }
  if (goal.exit !== false) walk.goalExitAt = reached.occurredAt;
}

/** Plans the step the enrollment is at: the plan when it ends here, undefined when the walk goes on. */
function planStep(walk: Walk): Plan | undefined {
  const { state, now, tz } = walk;
  if (state.stepId === END) return done(walk, { kind: 'finish' });
  const cs = walk.compiled.steps.get(state.stepId)!;
  const step = cs.step;
  const moment = momentOf(step, state, tz);
  if ('error' in moment) {
    walk.decisions.push({ kind: 'fail', stepId: step.id, reason: moment.error });
    return exit(walk, `step "${step.id}": ${moment.error}`);
  }
  if (step.type === 'wait') return planWait(walk, cs, step, moment.at);
  const due = dueAt(walk.compiled.scenario, step, moment.at, tz);
  if (due > now) return done(walk, { kind: 'wait', until: due });
  const exitReason = exitBefore(walk, due);
  if (exitReason) return exit(walk, exitReason);
  if (step.type === 'action') return planAction(walk, cs, step, due);
  if (step.type === 'message') return planMessage(walk, cs, step, due, moment.countedBackFrom);
  const { to, via } = step.type === 'branch' ? chooseBranch(walk, step, due) : chooseSplitArm(walk, step);
  walk.decisions.push({ kind: 'branch', stepId: step.id, to, via });
  state.previousAt = due;
  state.stepId = to;
  return undefined;
}
/** A wait step: on to its next step when the event comes, to onTimeout when the timeout passes first. */
function planWait(walk: Walk, cs: CompiledStep, step: WaitStep, moment: number): Plan | undefined {
  const { state, now } = walk;
  const start = state.waitStartedAt ?? moment;
  if (start > now) return done(walk, { kind: 'wait', until: start });
  const exitReason = exitBefore(walk, start);
  if (exitReason) return exit(walk, exitReason);
  const deadline = start + durationMs(step.timeout);
  const seen = firstMatchingEvent(walk.own, step.for, { from: start, through: Math.min(deadline, now) });
  if (seen) {
    const reason = exitBefore(walk, seen.occurredAt);
    if (reason) return exit(walk, reason);
    walk.decisions.push({ kind: 'branch', stepId: step.id, to: cs.next, via: step.for.event });
    state.previousAt = seen.occurredAt;
    state.stepId = cs.next;
  } else if (deadline <= now) {
    const reason = exitBefore(walk, deadline);
    if (reason) return exit(walk, reason);
    walk.decisions.push({ kind: 'branch', stepId: step.id, to: step.onTimeout, via: 'timeout' });
    state.previousAt = deadline;
    state.stepId = step.onTimeout;
  } else {
    state.waitStartedAt = start;
    return done(walk, { kind: 'wait', until: deadline, waitingFor: step.for.event });
  }
  state.waitStartedAt = undefined;
  return undefined;
}

/**
 * An action step, due at `due`. Not a message: no send window, and it happens even if it fell due
 * before the scenario was switched on; expireAfter alone skips it when the tick is that late.
 */
function planAction(walk: Walk, cs: CompiledStep, step: ActionStep, due: number): undefined {
  const { state, decisions } = walk;
  if (step.expireAfter && walk.now > due + durationMs(step.expireAfter)) {
    decisions.push({ kind: 'expire', stepId: step.id, dueAt: due, reason: 'it could not be done on time' });
  } else {
    const change = heldOutChange(walk, actionChange(step));
    const applied = applyChange(walk.user.attributes, change);
    if ('error' in applied) decisions.push({ kind: 'fail', stepId: step.id, reason: applied.error });
    else if (walk.heldOut && !changesFacts(change)) decisions.push({ kind: 'holdout', stepId: step.id, dueAt: due });
    else {
      walk.user = { ...walk.user, attributes: applied.attributes };
      decisions.push({ kind: 'act', stepId: step.id, dueAt: due, ...change });
    }
  }
  state.previousAt = due;
  state.stepId = cs.next;
  return undefined;
}

/** A message step, due at `due`: sent (or expired, or failed to render), then one step per tick unless catchUp is "together". */
function planMessage(
  walk: Walk,
  cs: CompiledStep,
  step: MessageStep,
  due: number,
  countedBackFrom: number | undefined,
): Plan | undefined {
  const { runtime, state, now, tz } = walk;
  const scenario = walk.compiled.scenario;
  // The earliest it can go out from now: a late tick outside the send window waits for the next opening.
  const opening = applyWindow(now, stepWindow(scenario, step), tz);
  const expired =
    due < runtime.activatedAt
      ? 'it fell due before the scenario was switched on'
      : tooLate(step, due, countedBackFrom, opening);
  if (!expired && opening > now) return done(walk, { kind: 'wait', until: opening });
  walk.decisions.push(
    expired ? { kind: 'expire', stepId: step.id, dueAt: due, reason: expired } : sendDecision(walk, cs, step, due),
  );
  state.previousAt = due;
  state.stepId = cs.next;
  if (expired || scenario.catchUp === 'together') return undefined;
  // One step per tick: the next one, even if already due, waits for the next tick.
  return state.stepId === END
    ? done(walk, { kind: 'finish' })
    : done(walk, { kind: 'wait', until: nextMoment(state, walk.compiled, tz) ?? now });
}

/** The messages of a step rendered for this user: a send, or a fail when a placeholder cannot be filled. */
function sendDecision(walk: Walk, cs: CompiledStep, step: MessageStep, due: number): Decision {
  const { user, state } = walk;
  const rendered = renderMessages(cs, {
    attributes: user.attributes,
    answers: user.answers,
    trigger: state.trigger,
    userId: user.userId,
    linkSigner: walk.runtime.linkSigner,
  });
  if ('error' in rendered) return { kind: 'fail', stepId: step.id, reason: rendered.error };
  // Held out: decided like a send (same moment, same rendering), and nothing goes to LINE.
  if (walk.heldOut) return { kind: 'holdout', stepId: step.id, dueAt: due };
  return {
    kind: 'send',
    stepId: step.id,
    dueAt: due,
    messages: rendered.messages,
    uniform: cs.uniform,
    aggregationUnit: cs.aggregationUnit,
  };
}

/**
 * What an action step does for a held-out user: tags and attributes as for everyone (the
 * user's record, which other scenarios and audiences read, is not the treatment), but no
 * rich menu change, which the user would see.
 */
function heldOutChange(walk: Walk, change: ActionChange): ActionChange {
  if (!walk.heldOut || change.richMenu === undefined) return change;
  return { tags: change.tags, attributes: change.attributes };
}

/** The first branch whose condition holds at the step's moment, or the default. */
function chooseBranch(walk: Walk, step: BranchStep, due: number): { to: string; via: string } {
  const ctx = conditionContext(walk.user, walk.state, due, walk.events);
  const index = step.branches.findIndex((b) => evaluate(b.when, ctx));
  const hit = step.branches[index];
  return hit ? { to: hit.next, via: hit.name ?? `branch ${index + 1}` } : { to: step.default ?? END, via: 'default' };
}

/** The arm of an A/B split this user always falls in. */
function chooseSplitArm(walk: Walk, step: SplitStep): { to: string; via: string } {
  const arm = chooseArm(walk.user.userId, walk.compiled.id, step);
  return { to: arm.next, via: arm.name };
}

/**
 * Why a message due at `due` cannot go out at `sendAt`, if so. A step counted back from a date
 * never goes out at or after that date; with expireAfter as well, the earlier limit applies.
 */
function tooLate(
  step: MessageStep,
  due: number,
  countedBackFrom: number | undefined,
  sendAt: number,
): string | undefined {
  if (countedBackFrom !== undefined && sendAt >= countedBackFrom)
    return 'it could not go out before the date it counts back from';
  if (step.expireAfter && sendAt > due + durationMs(step.expireAfter)) return 'it could not go out on time';
  return undefined;
}

/** When the step the enrollment is at falls due (undefined if it cannot be computed). */
function nextMoment(state: EnrollmentState, compiled: CompiledScenario, tz: string): number | undefined {
  const cs = compiled.steps.get(state.stepId);
  if (!cs) return undefined;
  const m = momentOf(cs.step, state, tz);
  return 'error' in m ? undefined : dueAt(compiled.scenario, cs.step, m.at, tz);
}

/** The step's moment, counted from where the enrollment is. */
function momentOf(step: Step, state: EnrollmentState, tz: string) {
  return stepMoment(step.wait, {
    previousAt: state.previousAt,
    enteredAt: state.enteredAt,
    trigger: state.trigger,
    tz,
  });
}

/** When the step falls due: a message at its moment moved into its send window. */
function dueAt(scenario: Scenario, step: Step, moment: number, tz: string): number {
  return step.type === 'message' ? applyWindow(moment, stepWindow(scenario, step), tz) : moment;
}

/** The events that concern this enrollment: with an entry.key, those of its key value or of none. */
function ownEvents(
  scenario: Scenario,
  trigger: Record<string, unknown>,
  events: readonly EventFact[],
): readonly EventFact[] {
  const keyPath = scenario.entry.key;
  const key = enrollmentKey(keyPath, trigger);
  return key === undefined || events.length === 0
    ? events
    : events.filter((e) => concernsKey(keyPath, key, e.properties));
}

/**
 * The events that can be the goal: not a later trigger with this enrollment's own key, which
 * updated the enrollment and is no goal of it.
 */
function notUpdates(
  scenario: Scenario,
  trigger: Record<string, unknown>,
  events: readonly EventFact[],
): readonly EventFact[] {
  const { key: keyPath, trigger: entry } = scenario.entry;
  if (keyPath === undefined || entry.type !== 'event') return events;
  const key = enrollmentKey(keyPath, trigger);
  if (key === undefined) return events;
  return events.filter((e) => e.type !== entry.event || enrollmentKey(keyPath, e.properties) !== key);
}

/** The first exit rule (or goal with exit) met by an event after the entry and up to the moment. */
function exitReasonBefore(
  scenario: Scenario,
  events: readonly EventFact[],
  enteredAt: number,
  goalExitAt: number,
  moment: number,
): string | undefined {
  if (goalExitAt <= moment) return `goal: ${scenario.goal!.event}`;
  const rules = scenario.exit;
  if (!rules || events.length === 0) return undefined;
  const window = { after: enteredAt, through: moment };
  const rule = rules.find((r) => firstMatchingEvent(events, r, window));
  return rule && `exit: ${rule.event}`;
}
