// What every phase of a tick shares: its settings with the defaults filled in, and, once
// the scenarios are registered, which of them route events and are planned, and how.
import { randomUUID } from 'node:crypto';
import type { CompiledScenario } from '../scenario/compile.js';
import type { IngestPage, Registration } from '../domain.js';
import type { Store } from '../store/store.js';
import { TickCounts } from './counts.js';
import {
  refusedDefinition,
  scenariosToRegister,
  tickScenarios,
  unregisteredReason,
  type TickScenarios,
  type Unregistered,
} from './decide/scenarios.js';
import { routePage, type RoutedPage, type RoutingMemory } from './decide/route-page.js';
import type { PlanContext } from './decide/plan-page.js';
import type { TickOptions } from './tick.js';
import type { RunMode } from './run-mode.js';
import { readDispatcher, type DispatcherState } from '../store/dispatcher.js';

/** One tick's settings and counts. */
export interface Tick {
  options: TickOptions;
  store: Store;
  now: () => number;
  /** Names this tick's leases. */
  owner: string;
  pageSize: number;
  leaseSeconds: number;
  shardIndex: number;
  shardCount: number;
  /** send, plan-only or no-line (src/engine/run-mode.ts); only plan-only changes what the tick does, no-line is its sender. */
  mode: RunMode;
  counts: TickCounts;
  /** The files this tick registers: all, or only-scenario's. */
  scenarios: CompiledScenario[];
}

export function newTick(options: TickOptions): Tick {
  return {
    options,
    store: options.store,
    now: options.now,
    owner: options.owner ?? `tick-${randomUUID()}`,
    pageSize: options.pageSize ?? 500,
    leaseSeconds: options.leaseSeconds ?? 300,
    shardIndex: options.shardIndex ?? 0,
    shardCount: options.shardCount ?? 1,
    mode: options.mode ?? 'send',
    counts: new TickCounts(),
    // A run limited to one scenario registers, plans and sends only that one; the others'
    // files still count as present (a file not here is missing, never "removed").
    scenarios: scenariosToRegister(options.scenarios, options.onlyScenario),
  };
}

/** The scenarios in force for this tick, once registered. */
export interface InForce {
  sets: TickScenarios;
  /** Planning's context: definitions, first runs, the link signer, the frequency cap. */
  ctx: PlanContext;
  /** The event types the planner may need (conditions, waits, exits, goals). */
  eventTypes: string[];
  /** Routes one page of events. */
  route: (page: IngestPage, memory: RoutingMemory) => RoutedPage;
}

/** Registers the definitions in force (a what-if only reads them) and when each first ran. */
export async function registerScenarios(tick: Tick): Promise<InForce> {
  const { options, counts } = tick;
  const { registration, registered, unregistered } = await registerEach(tick);
  const sets = tickScenarios({ registered, registration, onlyScenario: options.onlyScenario, unregistered });
  return {
    sets,
    ctx: {
      sets,
      activatedAt: new Map(registration.scenarios.map((s) => [s.id, s.activatedAt])),
      previous: new Map(),
      linkSigner: options.linkSigner,
      cap: options.frequencyCap,
      counts,
    },
    eventTypes: relevantEventTypes(tick.scenarios),
    route: (page, memory) => routePage({ page, memory, routing: sets.routing, byId: sets.routedById, counts }),
  };
}

/** One registration call: these scenarios, with every file of the run named, less those held. */
function register(tick: Tick, scenarios: CompiledScenario[], held: Set<string> = new Set()): Promise<Registration> {
  return tick.store.registerScenarios(
    tick.now(),
    scenarios.map((c) => ({ id: c.id, hash: c.hash, version: c.scenario.version, definition: c.scenario })),
    { dry: tick.mode === 'plan-only', present: tick.options.scenarios.map((c) => c.id).filter((id) => !held.has(id)) },
  );
}

/**
 * Registers every scenario at once; when the store refuses a definition, each alone (each
 * in its own transaction), so that one it refuses holds only itself: it counts as absent
 * (its users keep their place; events are routed by its last definition) and the summary
 * names its file and step. An error that is no definition's fault stops the tick.
 */
async function registerEach(
  tick: Tick,
): Promise<{ registration: Registration; registered: CompiledScenario[]; unregistered: Unregistered[] }> {
  try {
    return { registration: await register(tick, tick.scenarios), registered: tick.scenarios, unregistered: [] };
  } catch (error) {
    if (!refusedDefinition(error)) throw error;
  }
  const registered: CompiledScenario[] = [];
  const unregistered: Unregistered[] = [];
  for (const c of tick.scenarios) {
    try {
      await register(tick, [c]);
      registered.push(c);
    } catch (error) {
      if (!refusedDefinition(error)) throw error;
      unregistered.push({ id: c.id, reason: unregisteredReason(c, error) });
    }
  }
  const held = new Set(unregistered.map((u) => u.id));
  return { registration: await register(tick, registered, held), registered, unregistered };
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

/**
 * The dispatcher's state for the job summary and the alert issue (issue 28): read only, so a
 * failure here (a database not yet migrated to it) costs the section, not the tick.
 */
export async function dispatcherState(tick: Tick): Promise<DispatcherState | undefined> {
  if (tick.mode === 'plan-only') return undefined;
  return readDispatcher(tick.store.rpc, { now: tick.now(), limit: 3 }).catch(() => undefined);
}
