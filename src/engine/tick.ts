// One tick, top to bottom: register the scenarios, take in new events, plan what is due,
// commit the plans with their outbox batches in one transaction per page, send the
// outbox, record what LINE answered. Every step is a bounded page of work; a crash at any
// point leaves state from which the next tick continues without sending anything twice.
// runTick is that order of I/O; each phase is a module of its own: setup.ts, events.ts,
// due.ts, what-if.ts; the pure decisions of a page are in decide/.
import type { CompiledScenario } from '../scenario/compile.js';
import type { Store } from '../store/store.js';
import type { Attention, LatenessDay } from '../domain.js';
import type { Sender } from '../line/sender.js';
import type { LinkSigner } from '../planner/render.js';
import type { TickCounts } from './counts.js';
import type { MissingScenario } from './decide/scenarios.js';
import type { RunMode } from './run-mode.js';
import type { FrequencyCap } from './decide/frequency-cap.js';
import { dispatcherState, newTick, registerScenarios, type Tick } from './setup.js';
import { takeInEvents } from './events.js';
import { planAndSend } from './due.js';
import { whatIfTick } from './what-if.js';
import { assertSchemaCurrent } from '../store/schema-version.js';
import { retentionPhase, type DatabasePlan, type RetentionPhase } from './retention.js';
import { DAY } from '../time/zoned.js';

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
   * While planning goes on, how often the sender takes the multicasts not yet full (merged
   * into full ones); default 1,000 ms. Tests set it past the tick to see every merge.
   */
  mergingClaimEveryMs?: number | undefined;
  /**
   * The run mode (src/engine/run-mode.ts); default send. plan-only is a what-if
   * (src/engine/what-if.ts): it reads the new events and routes them in memory, plans
   * everything due, counts it as planned, and writes nothing at all (no runs row, no lease,
   * no event touched, nothing sent). no-line runs as send does, with a sender that does not
   * call LINE.
   */
  mode?: RunMode | undefined;
  /** Rows older than this many days are removed at the tick's end (default 90, at least 31; src/engine/retention.ts). */
  retentionDays?: number | undefined;
  /** The database's plan, for the months left (default Supabase Free, 500 MB). */
  databasePlan?: DatabasePlan | undefined;
}

export interface TickResult extends RetentionPhase {
  counts: TickCounts;
  attention: Attention;
  previousRunAt: number | null;
  stoppedBy?: 'monthly_limit' | 'unauthorized' | undefined;
  runId: string;
  /** Registered scenarios with no file: their users are held until the file is back or it is retired. */
  missingScenarios: MissingScenario[];
  /** Why no events were taken in this tick (a run limited to one scenario), if so. */
  ingestHeld?: string | undefined;
  /** The dispatcher's settings, last starts and month, read in the run's setup (issue 28). */
  dispatcher?: import('../store/dispatcher.js').DispatcherState | undefined;
  /** How late the ticks of the last 7 days served, per day (Asia/Tokyo), this one included. */
  lateness?: LatenessDay[] | undefined;
}

export { planAlone } from './decide/plan-page.js';

/** One tick, in the order of its I/O. */
export async function runTick(options: TickOptions): Promise<TickResult> {
  const tick = newTick(options);
  const { store, counts } = tick;
  // Before anything is read or written: the database has the schema this release needs.
  await assertSchemaCurrent(store.rpc);
  // The heartbeat; a what-if writes none (the next tick's lateness counts real ticks only).
  const run = tick.mode === 'plan-only' ? undefined : await store.runStart(runStartArgs(tick));
  const previousRunAt = run?.previousStartedAt ?? null;
  const runId = run?.id ?? 'what-if';
  // 1. Scenarios: the definitions in force, and when each first ran.
  const inForce = await registerScenarios(tick);
  const held = {
    missingScenarios: inForce.sets.missing,
    ingestHeld: inForce.sets.ingestHeld,
    dispatcher: await dispatcherState(tick),
  };
  const beforeFinish = { counts, attention: emptyAttention(), previousRunAt, runId, ...held };
  // A what-if reads and plans as the tick would, in memory, and writes nothing.
  if (tick.mode === 'plan-only') {
    await whatIfTick(tick, inForce);
    return beforeFinish;
  }
  // 2. Ingest: a page of events at a time, routed in order, each page committed.
  await takeInEvents(tick, inForce);
  if (options.stopAfter === 'ingest') return beforeFinish;
  // 3 and 4. Plan what is due page by page, each committed with its outbox batches, while
  // the outbox is sent.
  const stoppedBy = await planAndSend(tick, inForce, runId);
  if (options.stopAfter === 'commit') return beforeFinish;
  // Old rows removed in bounded pages, and the database's size against its plan.
  const kept = await retentionPhase(store.rpc, tick.now(), options);
  // 5. The heartbeat's end, and what needs a person.
  const attention = await store.runFinish({
    now: tick.now(),
    id: runId,
    counts: counts.toJSON(),
    status: stoppedBy ? `stopped: ${stoppedBy}` : 'ok',
  });
  // How late this and the week's ticks served (the summary's table, the lateness alert): read
  // only, so a failure here costs the table, not the tick.
  const lateness = await store.latenessByDay({ from: tick.now() - 7 * DAY, to: tick.now() + 1 }).catch(() => undefined);
  return { counts, attention, previousRunAt, stoppedBy, runId, lateness, ...held, ...kept };
}

function runStartArgs(tick: Tick) {
  return {
    now: tick.now(),
    shardIndex: tick.shardIndex,
    shardCount: tick.shardCount,
    dryRun: false,
    trigger: tick.options.trigger ?? 'schedule',
  };
}

function emptyAttention(): Attention {
  return { needsReview: 0, setAsideRecent: 0, waitingLink: 0, pendingBatches: 0 };
}
