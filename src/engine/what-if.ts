// A what-if (run mode plan-only, with or without as-of): what a tick would do at this moment,
// with nothing written at all (no runs row, no lease, no event touched, nothing sent).
//
// It reads as the tick does, but never claims: the new events page by page (lsd_ingest_peek
// answers as the claim would and undoes what the claim wrote), routed in memory, so that
// their new enrollments, exits, wake-ups and re-timed keys count; then the enrollments this
// made due (new, woken, re-keyed), then every enrollment due in the store, page by page from
// a cursor (lsd_peek_due), each planned as the tick would and counted as "planned".
import type { ClaimedEnrollment, DuePage } from '../domain.js';
import type { UserFacts } from '../planner/types.js';
import { localMidnight } from './decide/frequency-cap.js';
import { RoutingMemory, type RoutedPage } from './decide/route-page.js';
import { planPage } from './decide/plan-page.js';
import type { InForce, Tick } from './setup.js';
import { countNotTaken } from './events.js';

type WhatIfArgs = Tick & InForce;

/** What the events taken in would change, kept in memory. */
class WhatIfState {
  readonly memory = new RoutingMemory();
  /** Enrollments that would end (store ids and new ones' temporary ids). */
  readonly exited = new Set<string>();
  /** Store enrollments that would be due now: woken by an event, or re-keyed. */
  readonly dueNow = new Set<string>();
  /** New triggers of keyed enrollments whose key came again. */
  readonly triggers = new Map<string, Record<string, unknown>>();
  readonly fresh: ClaimedEnrollment[] = [];
  /** Sends planned per user in this what-if (the frequency cap counts them, as commits would). */
  readonly sentInTick = new Map<string, number>();
  /** Enrollments planned, for the progress line. */
  planned = 0;

  take(routed: RoutedPage): void {
    for (const x of routed.exit) this.exited.add(x.enrollmentId);
    for (const id of routed.wake) this.dueNow.add(id);
    for (const u of routed.update.values()) {
      this.triggers.set(u.enrollmentId, u.trigger);
      this.dueNow.add(u.enrollmentId);
    }
    for (const row of routed.enroll) {
      if (row.status === 'exited') continue;
      const id = routed.tempIds.get(row)!;
      this.fresh.push({
        id,
        userId: row.userId,
        scenarioId: row.scenarioId,
        scenarioHash: row.scenarioHash,
        enteredAt: row.enteredAt,
        trigger: row.trigger,
        stepId: row.stepId,
        previousAt: row.enteredAt,
        waitStartedAt: undefined,
        converted: row.convertedAt !== undefined,
      });
    }
  }

  /** The enrollment as it would be after the events: its new trigger, if re-keyed. */
  current(e: ClaimedEnrollment): ClaimedEnrollment {
    const trigger = this.triggers.get(e.id);
    return trigger ? { ...e, trigger } : e;
  }

  get facts(): Map<string, UserFacts> {
    return this.memory.facts;
  }
}

export async function whatIfTick(tick: Tick, inForce: InForce): Promise<void> {
  const args: WhatIfArgs = { ...tick, ...inForce };
  const state = new WhatIfState();
  if (!inForce.sets.ingestHeld) await readEvents(args, state);
  await planInMemory(args, state);
  await planDue(args, state);
}

/** Every new event, page after page from a cursor, routed in memory. */
async function readEvents(args: WhatIfArgs, state: WhatIfState): Promise<void> {
  const { store, counts, options } = args;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.ingestPeek({ now: options.now(), limit: args.pageSize, afterId });
    countNotTaken(page, counts);
    if (page.events.length) {
      state.take(args.route(page, state.memory));
      options.progress?.('events (what-if)', counts.eventsTaken);
    }
    if (!page.more || page.lastId === undefined) break;
    afterId = page.lastId;
  }
}

/** The enrollments the events would make due now: new ones, woken ones, re-keyed ones. */
async function planInMemory(args: WhatIfArgs, state: WhatIfState): Promise<void> {
  const { store, options } = args;
  const now = options.now();
  const ids = [...state.dueNow].filter((id) => !state.exited.has(id) && !id.startsWith('new-'));
  const fresh = state.fresh.filter((e) => !state.exited.has(e.id) && e.enteredAt <= now).map((e) => state.current(e));
  for (let i = 0; i < Math.max(ids.length, fresh.length); i += args.pageSize) {
    const chunk = fresh.slice(i, i + args.pageSize);
    const read = await store.peekDue({
      ...peekArgs(args, now),
      ids: ids.slice(i, i + args.pageSize),
      userIds: [...new Set(chunk.map((e) => e.userId))],
      ...(chunk.length ? { since: Math.min(...chunk.map((e) => e.enteredAt)) } : {}),
    });
    plan(args, state, { ...read, enrollments: [...read.enrollments.map((e) => state.current(e)), ...chunk] }, now);
  }
}

/** Every enrollment due in the store, page after page from a cursor. */
async function planDue(args: WhatIfArgs, state: WhatIfState): Promise<void> {
  const { store, options, counts } = args;
  let after: { dueAt: number; id: string } | undefined;
  for (;;) {
    if (options.maxMessages !== undefined && counts.recipientsPlanned >= options.maxMessages) {
      counts.heldBackByMaxMessages = true;
      return;
    }
    const now = options.now();
    const read = await store.peekDue({ ...peekArgs(args, now), limit: args.pageSize, after });
    if (!read.last) return;
    after = read.last;
    // Already planned above (woken, re-keyed), or ended by an event.
    const enrollments = read.enrollments.filter((e) => !state.dueNow.has(e.id) && !state.exited.has(e.id));
    plan(args, state, { ...read, enrollments }, now, read.enrollments.length === args.pageSize);
    if (read.enrollments.length < args.pageSize) return;
  }
}

function peekArgs(args: WhatIfArgs, now: number) {
  const cap = args.ctx.cap;
  return {
    now,
    limit: args.pageSize,
    shardIndex: args.shardIndex,
    shardCount: args.shardCount,
    eventTypes: args.eventTypes,
    capSince: cap ? localMidnight(now, cap.timezone) : undefined,
    scenarioIds: args.sets.claimIds,
  };
}

/**
 * Plans a page and counts its sends as planned. again: as a tick's lane goes on after a full
 * page and claims what its commit left due at once (the next step of a catch-up), the plans
 * still due now are planned again, in memory.
 */
function plan(args: WhatIfArgs, state: WhatIfState, page: DuePage, now: number, again = false): void {
  let enrollments = page.enrollments;
  for (let round = 0; enrollments.length && round < 100; round++) {
    const { plans, batches } = planPage({ ...page, enrollments }, now, args.ctx, {
      sentInTick: state.sentInTick,
      users: state.facts,
    });
    for (const b of batches) args.counts.add(b.scenarioId, b.stepId, 'planned', b.members.length);
    state.planned += enrollments.length;
    args.options.progress?.('enrollments planned (what-if)', state.planned);
    if (!again) return;
    const byId = new Map(enrollments.map((e) => [e.id, e]));
    enrollments = plans
      .filter((p) => p.status === 'active' && p.dueAt !== null && p.dueAt <= now)
      .map((p): ClaimedEnrollment => {
        const e = byId.get(p.id)!;
        const waitStartedAt = p.waitStartedAt ?? undefined;
        return {
          ...e,
          stepId: p.stepId,
          previousAt: p.previousAt,
          waitStartedAt,
          scenarioHash: p.scenarioHash,
          converted: e.converted || p.convertedAt !== null,
        };
      });
  }
}
