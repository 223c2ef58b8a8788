// Routing one page of new events: who enters, who leaves, who wakes, whose keyed enrollment
// is re-timed. The tick commits the result (lsd_ingest_commit); a what-if keeps it in memory
// (RoutingMemory), so that its later pages and its planning see what the earlier pages did.
import { randomUUID } from 'node:crypto';
import type { CompiledScenario } from '../../scenario/compile.js';
import { routeEvent, type EnrollmentSummary, type RouteResult, type RoutingScenario } from '../../planner/route.js';
import type { UserFacts } from '../../planner/types.js';
import type {
  EnrollmentExit,
  IngestEvent,
  IngestPage,
  NewEnrollment,
  SetAsideEvent,
  TriggerUpdate,
} from '../../domain.js';
import type { TickCounts } from '../counts.js';
import { failureReason } from '../../contract/public-error.js';

export interface RoutedPage {
  enroll: NewEnrollment[];
  /** The temporary id of each new enrollment (a what-if plans them under it). */
  tempIds: Map<NewEnrollment, string>;
  exit: EnrollmentExit[];
  wake: string[];
  /** The last trigger of a key wins: one update per enrollment. */
  update: Map<string, TriggerUpdate>;
  setAside: SetAsideEvent[];
  done: string[];
}

/**
 * What routing knows of users between events: each user's facts as of the last event seen,
 * and their enrollments. A tick starts it afresh for each page (the earlier pages are
 * committed, so the store answers); a what-if keeps one for the whole run.
 */
export class RoutingMemory {
  readonly facts = new Map<string, UserFacts>();
  readonly enrollments = new Map<string, EnrollmentSummary[]>();
}

export function routePage(args: {
  page: IngestPage;
  memory: RoutingMemory;
  routing: RoutingScenario[];
  byId: Map<string, CompiledScenario>;
  counts: TickCounts;
}): RoutedPage {
  const { page, memory, routing } = args;
  const book = new PageBook(memory, args.byId, args.counts);
  book.meetEnrollments(page.enrollments);
  // Each event is routed with its user as of that event, as if events came one at a time:
  // a user's facts start from before their first change and follow each change. (With the
  // page's final facts, a follow and a later unfollow in one page enrolled no one, and in two
  // pages enrolled then exited: where a page split decided.)
  const asOf = memory.facts;
  for (const e of page.events) if (e.factsBefore && !asOf.has(e.userId)) asOf.set(e.userId, e.factsBefore);
  for (const event of page.events) {
    if (event.factsAfter) asOf.set(event.userId, event.factsAfter);
    const user = asOf.get(event.userId) ?? page.users.get(event.userId) ?? newUser(event.userId);
    const mine = book.enrollmentsOf(event.userId);
    let routed: RouteResult;
    try {
      routed = routeEvent({ event, user, scenarios: routing, enrollments: mine });
    } catch (error) {
      // One event routing cannot handle (a property it cannot compare) stops only itself.
      book.setAside(event, failureReason(error));
      continue;
    }
    for (const x of routed.exit) book.exit(x, mine);
    book.wake(routed.wake);
    for (const u of routed.update) book.update(u, event);
    for (const n of routed.enroll) book.enroll(n, event, mine);
  }
  return book.finish(page);
}

/**
 * The bookkeeping of one routed page. A new enrollment has no id until the commit: it gets a
 * temporary one here, so that a later event of the same page can end it or re-key it, which
 * then changes its row (still to be inserted) instead of adding an exit or an update.
 */
class PageBook {
  readonly out: RoutedPage = {
    enroll: [],
    tempIds: new Map(),
    exit: [],
    wake: [],
    update: new Map(),
    setAside: [],
    done: [],
  };
  /** New enrollments of this page, by temporary id. */
  private readonly pendingById = new Map<string, NewEnrollment>();

  constructor(
    private readonly memory: RoutingMemory,
    private readonly byId: Map<string, CompiledScenario>,
    private readonly counts: TickCounts,
  ) {}

  /** The page's users' enrollments; users met in an earlier page of a what-if keep what routing made of them. */
  meetEnrollments(enrollments: IngestPage['enrollments']): void {
    const byUser = this.memory.enrollments;
    const known = new Set(byUser.keys());
    for (const e of enrollments) {
      if (known.has(e.userId)) continue;
      const list = byUser.get(e.userId) ?? [];
      list.push(e);
      byUser.set(e.userId, list);
    }
  }

  enrollmentsOf(userId: string): EnrollmentSummary[] {
    return this.memory.enrollments.get(userId) ?? [];
  }

  setAside(event: IngestEvent, reason: string): void {
    this.out.setAside.push({
      id: event.id,
      reason: `${event.type}: routing failed (${reason}); it enrolled and ended no one`,
    });
  }

  exit(x: RouteResult['exit'][number], mine: EnrollmentSummary[]): void {
    const summary = mine.find((e) => e.id === x.enrollmentId);
    if (summary) summary.status = 'exited';
    const pending = this.pendingById.get(x.enrollmentId);
    const convertedAt = x.convertedAt === undefined ? {} : { convertedAt: x.convertedAt };
    if (pending) Object.assign(pending, { status: 'exited', exitReason: x.reason, ...convertedAt });
    else this.out.exit.push({ enrollmentId: x.enrollmentId, reason: x.reason, ...convertedAt });
    const scenarioId = summary?.scenarioId ?? pending?.scenarioId ?? '?';
    this.counts.add(scenarioId, undefined, 'exited');
    if (x.convertedAt !== undefined) this.counts.add(scenarioId, undefined, 'conversions');
  }

  /** Enrollments to wake; a new one of this page is due from its entry anyway. */
  wake(ids: string[]): void {
    this.out.wake.push(...ids.filter((id) => !this.pendingById.has(id)));
  }

  /** A keyed enrollment's trigger came again: the last trigger of a key wins. */
  update(u: RouteResult['update'][number], event: IngestEvent): void {
    const pending = this.pendingById.get(u.enrollmentId);
    if (pending) Object.assign(pending, { trigger: u.trigger, triggerEventId: event.id });
    else
      this.out.update.set(u.enrollmentId, {
        enrollmentId: u.enrollmentId,
        trigger: u.trigger,
        triggerEventId: event.id,
      });
  }

  enroll(n: RouteResult['enroll'][number], event: IngestEvent, mine: EnrollmentSummary[]): void {
    const compiled = this.byId.get(n.scenarioId)!;
    const tempId = `new-${randomUUID()}`;
    const row: NewEnrollment = {
      scenarioId: n.scenarioId,
      userId: event.userId,
      stepId: compiled.first,
      enteredAt: n.enteredAt,
      trigger: n.trigger,
      triggerEventId: event.id,
      scenarioHash: compiled.hash,
      key: n.key ?? null,
    };
    this.out.enroll.push(row);
    this.out.tempIds.set(row, tempId);
    this.pendingById.set(tempId, row);
    // Later events see it (an exit in the same page ends it).
    mine.push({ id: tempId, scenarioId: n.scenarioId, status: 'active', enteredAt: n.enteredAt, key: n.key });
    this.memory.enrollments.set(event.userId, mine);
    this.counts.add(n.scenarioId, undefined, 'enrolled');
  }

  /** Every event not set aside is done; the counts of the page. */
  finish(page: IngestPage): RoutedPage {
    const asideIds = new Set(this.out.setAside.map((x) => x.id));
    this.out.done = page.events.filter((e) => !asideIds.has(e.id)).map((e) => e.id);
    for (const x of this.out.setAside) this.counts.noteSetAside(x.reason);
    this.counts.eventsTaken += this.out.done.length;
    return this.out;
  }
}

/** A user the store has no row for yet: following (LINE answers 200 even if not), no attributes. */
export function newUser(userId: string): UserFacts {
  return { userId, following: true, attributes: {}, answers: {} };
}
