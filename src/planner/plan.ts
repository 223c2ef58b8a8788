// The planner: given a scenario, one enrollment, the user's facts and events, and the
// time now, decides what happens to that enrollment in this tick. Pure: no I/O, no clock.
//
// Every step has a moment computed from the scenario (not from when a tick happened to
// run), and every condition and exit looks only at events up to that moment. So the
// steps, branches and arms an enrollment goes through do not depend on how time is cut
// into ticks; only the send times do.
import type { CompiledScenario, CompiledStep } from '../scenario/compile.js';
import { END, type MessageStep, type Scenario, type Step } from '../scenario/schema.js';
import { isValidTimeZone } from '../time/zoned.js';
import { actionChange, applyChange } from './actions.js';
import { evaluate, matchesFilter, type ConditionContext } from './conditions.js';
import { concernsKey, enrollmentKey } from './keys.js';
import { renderMessages, type LinkSigner } from './render.js';
import { chooseArm } from './split.js';
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

export function planEnrollment(input: PlanInput): Plan {
  const { scenario: runtime, events, now } = input;
  // The user as later steps see them: an action step's tags and attributes apply at once.
  let user = input.user;
  const { compiled } = runtime;
  const scenario = compiled.scenario;
  const state: EnrollmentState = { ...input.enrollment };
  const decisions: Decision[] = [];
  const tz = userTimeZone(user, compiled.timezone);
  let conversionAt: number | undefined;

  const done = (outcome: Outcome): Plan =>
    conversionAt === undefined ? { decisions, outcome, state } : { decisions, outcome, state, conversionAt };
  const exit = (reason: string): Plan => done({ kind: 'exit', reason });

  if (!user.following) return exit('unfollowed');

  // An edit removed the step this enrollment waits for.
  if (state.stepId !== END && !compiled.steps.has(state.stepId)) {
    const moved =
      scenario.onStepRemoved === 'end'
        ? undefined
        : relocate(state.stepId, runtime.previous?.get(state.scenarioHash), compiled);
    if (moved === undefined) return exit(`step "${state.stepId}" was removed from the scenario`);
    state.stepId = moved;
    state.waitStartedAt = undefined;
  }
  state.scenarioHash = compiled.hash;

  // The goal counts once, whenever it is seen; it ends the enrollment (unless exit: false)
  // only from the step whose moment follows it.
  const goal = scenario.goal;
  let goalExitAt = Infinity;
  if (goal) {
    const until = goal.within ? state.enteredAt + durationMs(goal.within) : Infinity;
    const reached =
      events.length === 0
        ? undefined
        : events.find(
            (e) =>
              e.type === goal.event &&
              e.occurredAt > state.enteredAt &&
              e.occurredAt <= Math.min(until, now) &&
              matchesFilter(e.properties, goal.where) &&
              !isUpdate(scenario, state.trigger, e),
          );
    if (reached) {
      if (!state.converted) {
        state.converted = true;
        conversionAt = reached.occurredAt;
      }
      if (goal.exit !== false) goalExitAt = reached.occurredAt;
    }
  }
  // With an enrollment key, exits and waits count only the events of this key (or of none).
  const own = ownEvents(scenario, state.trigger, events);
  const exitBefore = (moment: number) => exitReasonBefore(scenario, own, state.enteredAt, goalExitAt, moment);

  if (scenario.status === 'paused') return done({ kind: 'wait', until: Infinity });

  for (let n = 0; n < MAX_STEPS_PER_PLAN; n++) {
    if (state.stepId === END) return done({ kind: 'finish' });
    const cs = compiled.steps.get(state.stepId)!;
    const step = cs.step;
    const moment = momentOf(step, state, tz);
    if ('error' in moment) {
      decisions.push({ kind: 'fail', stepId: step.id, reason: moment.error });
      return exit(`step "${step.id}": ${moment.error}`);
    }

    if (step.type === 'wait') {
      const start = state.waitStartedAt ?? moment.at;
      if (start > now) return done({ kind: 'wait', until: start });
      const exitReason = exitBefore(start);
      if (exitReason) return exit(exitReason);
      const deadline = start + durationMs(step.timeout);
      const seen = own.find(
        (e) =>
          e.type === step.for.event &&
          e.occurredAt >= start &&
          e.occurredAt <= deadline &&
          e.occurredAt <= now &&
          matchesFilter(e.properties, step.for.where),
      );
      if (seen) {
        const reason = exitBefore(seen.occurredAt);
        if (reason) return exit(reason);
        decisions.push({ kind: 'branch', stepId: step.id, to: cs.next, via: step.for.event });
        state.previousAt = seen.occurredAt;
        state.stepId = cs.next;
      } else if (deadline <= now) {
        const reason = exitBefore(deadline);
        if (reason) return exit(reason);
        decisions.push({ kind: 'branch', stepId: step.id, to: step.onTimeout, via: 'timeout' });
        state.previousAt = deadline;
        state.stepId = step.onTimeout;
      } else {
        state.waitStartedAt = start;
        return done({ kind: 'wait', until: deadline, waitingFor: step.for.event });
      }
      state.waitStartedAt = undefined;
      continue;
    }

    const due = dueAt(scenario, step, moment.at, tz);
    if (due > now) return done({ kind: 'wait', until: due });
    const exitReason = exitBefore(due);
    if (exitReason) return exit(exitReason);

    if (step.type === 'action') {
      // Not a message: no send window, and it happens even if it fell due before the
      // scenario was switched on; expireAfter alone skips it when the tick is that late.
      if (step.expireAfter && now > due + durationMs(step.expireAfter)) {
        decisions.push({ kind: 'expire', stepId: step.id, dueAt: due, reason: 'it could not be done on time' });
      } else {
        const change = actionChange(step);
        const applied = applyChange(user.attributes, change);
        if ('error' in applied) decisions.push({ kind: 'fail', stepId: step.id, reason: applied.error });
        else {
          user = { ...user, attributes: applied.attributes };
          decisions.push({ kind: 'act', stepId: step.id, dueAt: due, ...change });
        }
      }
      state.previousAt = due;
      state.stepId = cs.next;
      continue;
    }

    if (step.type === 'message') {
      // The earliest it can go out from now: a late tick outside the send window waits for the next opening.
      const opening = applyWindow(now, stepWindow(scenario, step), tz);
      const expired =
        due < runtime.activatedAt
          ? 'it fell due before the scenario was switched on'
          : tooLate(step, due, moment.countedBackFrom, opening);
      if (!expired && opening > now) return done({ kind: 'wait', until: opening });
      if (expired) {
        decisions.push({ kind: 'expire', stepId: step.id, dueAt: due, reason: expired });
      } else {
        const rendered = renderMessages(cs, {
          attributes: user.attributes,
          answers: user.answers,
          trigger: state.trigger,
          userId: user.userId,
          linkSigner: runtime.linkSigner,
        });
        if ('error' in rendered) decisions.push({ kind: 'fail', stepId: step.id, reason: rendered.error });
        else
          decisions.push({
            kind: 'send',
            stepId: step.id,
            dueAt: due,
            messages: rendered.messages,
            uniform: cs.uniform,
            aggregationUnit: cs.aggregationUnit,
          });
      }
      state.previousAt = due;
      state.stepId = cs.next;
      if (!expired && scenario.catchUp !== 'together') {
        // One step per tick: the next one, even if already due, waits for the next tick.
        return state.stepId === END
          ? done({ kind: 'finish' })
          : done({ kind: 'wait', until: nextMoment(state, compiled, tz) ?? now });
      }
      continue;
    }

    let to: string;
    let via: string;
    if (step.type === 'branch') {
      const ctx: ConditionContext = {
        attributes: user.attributes,
        answers: user.answers,
        trigger: state.trigger,
        events,
        enteredAt: state.enteredAt,
        previousAt: state.previousAt,
        moment: due,
      };
      const index = step.branches.findIndex((b) => evaluate(b.when, ctx));
      const hit = step.branches[index];
      to = hit ? hit.next : (step.default ?? END);
      via = hit ? (hit.name ?? `branch ${index + 1}`) : 'default';
    } else {
      const arm = chooseArm(user.userId, compiled.id, step);
      to = arm.next;
      via = arm.name;
    }
    decisions.push({ kind: 'branch', stepId: step.id, to, via });
    state.previousAt = due;
    state.stepId = to;
  }
  return exit('the scenario passed too many steps in one tick');
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

/** A later trigger with this enrollment's own key: it updated the enrollment, it is no goal of it. */
function isUpdate(scenario: Scenario, trigger: Record<string, unknown>, e: EventFact): boolean {
  const { key: keyPath, trigger: entry } = scenario.entry;
  if (keyPath === undefined || entry.type !== 'event' || e.type !== entry.event) return false;
  const key = enrollmentKey(keyPath, trigger);
  return key !== undefined && enrollmentKey(keyPath, e.properties) === key;
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
  for (const rule of rules) {
    for (const e of events) {
      if (
        e.type === rule.event &&
        e.occurredAt > enteredAt &&
        e.occurredAt <= moment &&
        matchesFilter(e.properties, rule.where)
      )
        return `exit: ${rule.event}`;
    }
  }
  return undefined;
}
