// Which scenarios a tick routes events by, plans, and sends for: the files of this run,
// limited to one scenario on request, and the registered scenarios whose file is missing
// (held: never planned, never sent, never ended; events are still routed by their last
// definition, so that nothing that happens meanwhile is lost when the file comes back).
import { compileScenario, type CompiledScenario } from '../../scenario/compile.js';
import { ScenarioSchema } from '../../scenario/schema.js';
import type { RoutingScenario } from '../../planner/route.js';
import type { Registration } from '../../domain.js';
import { storableProblem } from '../../contract/event-rules.js';
import { formatJsonPath, type JsonPath } from '../../scenario/json-source.js';

export const RETIRED_REASON = 'the scenario was retired';

export interface MissingScenario {
  id: string;
  usersInside: number;
  /**
   * Set when the file is there but the store refused its definition: what to fix, naming
   * the file and step (held as a missing one is, by its last registered definition).
   */
  unregistered?: string | undefined;
}

/** A scenario of this run the store refused to register, and why in the file's words. */
export interface Unregistered {
  id: string;
  reason: string;
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

/** The missing scenarios, and the refused ones (held the same way) with what to fix. */
function heldScenarios(registration: Registration, unregistered: Unregistered[]): MissingScenario[] {
  const reasons = new Map(unregistered.map((u) => [u.id, u.reason]));
  const held: MissingScenario[] = registration.missing.map((m) => ({
    id: m.id,
    usersInside: m.usersInside,
    ...(reasons.has(m.id) ? { unregistered: reasons.get(m.id) } : {}),
  }));
  // A new file the store refused has no users yet and no earlier definition.
  for (const u of unregistered)
    if (!held.some((m) => m.id === u.id)) held.push({ id: u.id, usersInside: 0, unregistered: u.reason });
  return held;
}

/**
 * Whether a store error refused a definition rather than failed for everyone: PostgreSQL's
 * data exceptions (class 22: a NUL, a lone surrogate, a value out of range), integrity
 * (23) and program limits (54: too large). Anything else (a lost connection, a timeout)
 * stops the tick as before.
 */
export function refusedDefinition(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/** What to fix in a scenario the store refused: its file and step and the string at fault, or the store's words. */
export function unregisteredReason(c: CompiledScenario, error: unknown): string {
  const file = c.file ?? `the file of scenario "${c.id}"`;
  const found = firstUnstorable(c.scenario);
  if (found) {
    const step = typeof found.path[1] === 'number' ? c.scenario.steps[found.path[1]] : undefined;
    const where = step && found.path[0] === 'steps' ? `step "${step.id}", ` : '';
    return `${file}: ${where}${formatJsonPath(found.path)} ${found.problem}: fix it there (the validate command names the line)`;
  }
  const e = error as { code?: unknown; message?: unknown };
  const said = typeof e?.message === 'string' ? e.message.split('\n')[0]!.slice(0, 200) : 'an error';
  return (
    `${file}: the database refused its definition (${said}; SQLSTATE ${String(e?.code)}): ` +
    'run the validate command on it; if it passes, report this as a bug with the file'
  );
}

/** The first string or name of a definition that PostgreSQL cannot hold, with its JSON path. */
function firstUnstorable(value: unknown, path: JsonPath = []): { path: JsonPath; problem: string } | undefined {
  if (typeof value === 'string') {
    const problem = storableProblem(value);
    return problem ? { path, problem } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = [...path, Array.isArray(value) ? Number(key) : key];
    const problem = Array.isArray(value) ? undefined : storableProblem(key);
    if (problem) return { path: at, problem: `(its name) ${problem}` };
    const found = firstUnstorable(item, at);
    if (found) return found;
  }
  return undefined;
}

export function tickScenarios(args: {
  registered: CompiledScenario[];
  registration: Registration;
  onlyScenario: string | undefined;
  /** Files of this run the store refused: held, never planned; said in the summary. */
  unregistered?: Unregistered[] | undefined;
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
    missing: heldScenarios(registration, args.unregistered ?? []),
    ingestHeld,
  };
}
