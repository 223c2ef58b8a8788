// The welcome by reply (docs/reply.md): what the LINE webhook answers a follow with, decided
// by the engine's own routing and planner, so the reply is exactly the push the tick would
// have sent: the same scenarios entered (trigger, route, includeUnblocked, audience,
// re-entry, activation), the same first step at the same moment, rendered the same way.
// Pure. The Deno webhook runs a bundle of this module (scripts/generate-edge-modules.mjs).
import { compileScenario, type CompiledScenario } from '../scenario/compile.js';
import { ScenarioSchema } from '../scenario/schema.js';
import type { Message } from '../scenario/messages.js';
import { planEnrollment } from './plan.js';
import { routeEvent, type EnrollmentSummary } from './route.js';
import type { EventFact, UserFacts } from './types.js';

/** A registered scenario in force: its current definition (scenario_versions) and when it first ran. */
export interface ReplyScenario {
  id: string;
  hash: string;
  activatedAt: number;
  definition: unknown;
}

export interface ReplyInput {
  /** The follow event, as recorded. */
  event: EventFact;
  /** The user as the tick will see them once the follow is taken in. */
  user: UserFacts;
  /** Every enrollment of the user, any status. */
  enrollments: readonly EnrollmentSummary[];
  scenarios: readonly ReplyScenario[];
  now: number;
}

/** The step to send as the reply: the enrollment to write, its step's moment and messages. */
export interface ReplyChoice {
  scenarioId: string;
  scenarioHash: string;
  stepId: string;
  /** The step's moment, as the tick's planner computes it (the delivery's due_at). */
  dueAt: number;
  enteredAt: number;
  trigger: Record<string, unknown>;
  messages: Message[];
}

/**
 * The reply, or why there is none (the tick's push path does whatever is due); entered: the
 * follow enters a scenario with a reply step, whose step cannot go now (worth recording).
 */
export type ReplyDecision = { reply: ReplyChoice } | { none: string; entered: boolean };

function compiled(scenarios: readonly ReplyScenario[]): { compiled: CompiledScenario; activatedAt: number }[] {
  const out: { compiled: CompiledScenario; activatedAt: number }[] = [];
  for (const s of scenarios) {
    const parsed = ScenarioSchema.safeParse(s.definition);
    if (!parsed.success || parsed.data.status === 'retired') continue;
    out.push({ compiled: { ...compileScenario(parsed.data), hash: s.hash }, activatedAt: s.activatedAt });
  }
  return out;
}

/** The first step of the scenario as the planner decides it for a new enrollment now: sent now, or why not. */
function firstStep(
  routing: { compiled: CompiledScenario; activatedAt: number },
  entry: { enteredAt: number; trigger: Record<string, unknown> },
  input: ReplyInput,
): ReplyChoice | string {
  const { compiled: c } = routing;
  const first = c.steps.get(c.first)!.step;
  const plan = planEnrollment({
    scenario: { compiled: c, activatedAt: routing.activatedAt },
    enrollment: {
      id: 'reply',
      scenarioId: c.id,
      scenarioHash: c.hash,
      enteredAt: entry.enteredAt,
      trigger: entry.trigger,
      stepId: first.id,
      previousAt: entry.enteredAt,
      converted: false,
    },
    user: input.user,
    events: [input.event],
    now: input.now,
  });
  const decision = plan.decisions[0];
  if (decision?.kind === 'send' && decision.stepId === first.id) {
    return {
      scenarioId: c.id,
      scenarioHash: c.hash,
      stepId: first.id,
      dueAt: decision.dueAt,
      ...entry,
      messages: decision.messages,
    };
  }
  if (decision?.kind === 'fail' || decision?.kind === 'expire') return `${c.id}: ${decision.reason}`;
  if (decision?.kind === 'holdout') return `${c.id}: the user is in the holdout group (sent nothing)`;
  return `${c.id}: the first step is not due now`;
}

/**
 * The reply to a follow: the first step, marked "reply", of the highest-priority scenario the
 * follow enrolls the user into, when the planner sends it now. One reply a follow (a reply
 * token is single-use); other scenarios' steps go by push.
 */
export function planReply(input: ReplyInput): ReplyDecision {
  const routing = compiled(input.scenarios).filter(({ compiled: c }) => {
    const first = c.steps.get(c.first)!.step;
    return first.type === 'message' && first.reply === true;
  });
  if (!routing.length) return { none: 'no scenario in force has a reply step', entered: false };
  const routed = routeEvent({
    event: input.event,
    user: input.user,
    scenarios: routing,
    enrollments: input.enrollments,
  });
  const entered = routed.enroll
    .map((e) => ({ entry: e, routing: routing.find((r) => r.compiled.id === e.scenarioId)! }))
    .sort((a, b) => b.routing.compiled.priority - a.routing.compiled.priority);
  if (!entered.length) return { none: 'the follow enters no scenario with a reply step', entered: false };
  const reasons: string[] = [];
  for (const { entry, routing: r } of entered) {
    const choice = firstStep(r, { enteredAt: entry.enteredAt, trigger: entry.trigger }, input);
    if (typeof choice !== 'string') return { reply: choice };
    reasons.push(choice);
  }
  return { none: reasons.join('; '), entered: true };
}
