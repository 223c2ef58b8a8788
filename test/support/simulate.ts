// Runs the planner over a sequence of ticks for one enrollment, as the engine would:
// at each tick it plans only when the enrollment is due or an event arrived since the
// last tick, and it sees only events that happened by then.
import type { CompiledScenario } from '../../src/scenario/compile.js';
import { planEnrollment } from '../../src/planner/plan.js';
import type { Decision, EnrollmentState, EventFact, Outcome, UserFacts } from '../../src/planner/types.js';

export interface SimulationInput {
  compiled: CompiledScenario;
  user: UserFacts;
  events: EventFact[];
  enteredAt: number;
  trigger?: Record<string, unknown>;
  activatedAt?: number;
  /** The tick times, ascending. */
  ticks: Iterable<number>;
}

export interface SimulatedDecision {
  decision: Decision;
  tickAt: number;
}

export function simulate(input: SimulationInput): {
  decisions: SimulatedDecision[];
  outcome: Outcome | undefined;
  plans: number;
} {
  const events = [...input.events].sort((a, b) => a.occurredAt - b.occurredAt);
  let state: EnrollmentState = {
    id: 'e1',
    scenarioId: input.compiled.id,
    scenarioHash: input.compiled.hash,
    enteredAt: input.enteredAt,
    trigger: input.trigger ?? {},
    stepId: input.compiled.first,
    previousAt: input.enteredAt,
    converted: false,
  };
  const decisions: SimulatedDecision[] = [];
  let outcome: Outcome | undefined;
  let until = input.enteredAt;
  let lastTick = -Infinity;
  let plans = 0;
  for (const t of input.ticks) {
    if (t < input.enteredAt) continue;
    const arrived = events.some((e) => e.occurredAt > lastTick && e.occurredAt <= t);
    lastTick = t;
    if (t < until && !arrived) continue;
    plans++;
    const plan = planEnrollment({
      scenario: { compiled: input.compiled, activatedAt: input.activatedAt ?? 0 },
      enrollment: state,
      user: input.user,
      events: events.filter((e) => e.occurredAt <= t && e.occurredAt >= input.enteredAt),
      now: t,
    });
    for (const d of plan.decisions) decisions.push({ decision: d, tickAt: t });
    state = plan.state;
    outcome = plan.outcome;
    if (plan.outcome.kind !== 'wait') break;
    until = plan.outcome.until;
  }
  return { decisions, outcome, plans };
}

/** Tick times from start, every `period` ms, up to end. */
export function* every(start: number, period: number, end: number): Generator<number> {
  for (let t = start; t <= end; t += period) yield t;
}

export function user(overrides: Partial<UserFacts> = {}): UserFacts {
  return { userId: 'U1', following: true, attributes: {}, answers: {}, ...overrides };
}
