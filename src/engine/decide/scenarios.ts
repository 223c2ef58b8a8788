// Which scenarios a tick routes events by, plans, and sends for: the files of this run,
// limited to one scenario on request, and the registered scenarios whose file is missing
// (held: never planned, never sent, never ended; events are still routed by their last
// definition, so that nothing that happens meanwhile is lost when the file comes back).
import { compileScenario, type CompiledScenario } from '../../scenario/compile.js';
import { ScenarioSchema } from '../../scenario/schema.js';
import type { RoutingScenario } from '../../planner/route.js';
import type { Registration } from '../../domain.js';

export const RETIRED_REASON = 'the scenario was retired';

export interface MissingScenario {
  id: string;
  usersInside: number;
}

export interface TickScenarios {
  /** Routing for ingest: the active files, and the missing scenarios by their last definition. */
  routing: RoutingScenario[];
  /** What ingest may enroll into, by id (the routing's scenarios). */
  routedById: Map<string, CompiledScenario>;
  /** What this tick plans: the files registered in this run (a retired one only to end it). */
  plannable: Map<string, CompiledScenario>;
  /** Retired scenarios whose enrollments this tick ends. */
  retired: Set<string>;
  /** Scenarios whose enrollments and batches this tick claims. */
  claimIds: string[];
  missing: MissingScenario[];
  /** Set when events cannot be taken in this tick, with why (said in the summary). */
  ingestHeld?: string | undefined;
}

export function isRetired(c: CompiledScenario): boolean {
  return c.scenario.status === 'retired';
}

/**
 * The scenarios to register: all files, or only the one a limited run names (the others'
 * definitions and enrollments are left for the next full tick).
 */
export function scenariosToRegister(all: CompiledScenario[], onlyScenario: string | undefined): CompiledScenario[] {
  if (onlyScenario === undefined) return all;
  const only = all.filter((c) => c.id === onlyScenario);
  if (!only.length) {
    throw new Error(`only-scenario: there is no scenario "${onlyScenario}" among this run's scenario files`);
  }
  return only;
}

export function tickScenarios(args: {
  registered: CompiledScenario[];
  registration: Registration;
  onlyScenario: string | undefined;
}): TickScenarios {
  const { registered, registration } = args;
  const limited = args.onlyScenario !== undefined;
  const activatedAt = new Map(registration.scenarios.map((s) => [s.id, s.activatedAt]));
  const routing: RoutingScenario[] = [];
  let ingestHeld: string | undefined;
  if (limited) {
    // An event can matter to several scenarios: a run limited to one takes in none.
    ingestHeld =
      `limited to scenario "${args.onlyScenario}": no events were taken in ` +
      '(an event can matter to several scenarios); the next full tick takes them in';
  } else {
    for (const c of registered) if (!isRetired(c)) routing.push({ compiled: c, activatedAt: activatedAt.get(c.id)! });
    for (const m of registration.missing) {
      const parsed = ScenarioSchema.safeParse(m.definition);
      if (!parsed.success) {
        ingestHeld =
          `the last definition of the missing scenario "${m.id}" cannot be read, ` +
          'so events that may matter to it are held: restore its file';
        break;
      }
      // The registered hash, so enrollments made meanwhile count as made by that definition.
      routing.push({ compiled: { ...compileScenario(parsed.data), hash: m.hash }, activatedAt: m.activatedAt });
    }
  }
  const retired = new Set(registered.filter(isRetired).map((c) => c.id));
  if (!limited) for (const r of registration.retiredAbsent) retired.add(r.id);
  const plannable = new Map(registered.map((c) => [c.id, c]));
  return {
    routing: ingestHeld ? [] : routing,
    routedById: new Map(routing.map((r) => [r.compiled.id, r.compiled])),
    plannable,
    retired,
    claimIds: [...new Set([...plannable.keys(), ...retired])],
    missing: registration.missing.map((m) => ({ id: m.id, usersInside: m.usersInside })),
    ingestHeld,
  };
}
