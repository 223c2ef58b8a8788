// A simulated month of one shop under one way of starting ticks: a schedule alone (every 5
// minutes, hourly), or the dispatcher beside an hourly safety net. Time moves from one
// happening to the next (a heap of timed happenings), never by sleeping.
//
// A tick is modelled by its effect, not run: at its start it takes in every event that has
// arrived and sends every step whose moment has come (the engine's catch-up: a late tick
// sends what fell due), a second after it began plus a millisecond a step; it ends a second
// later. The whole engine for each of a month's thousands of ticks would take hours here and
// measure the engine, not the clock (its own speed is `npm run bench -- tick`); what the
// decision function reads (runs, events, enrollments' due moments, its own records) is
// written to PostgreSQL as the tick would leave it (see ./tables.ts), and the decision is
// the real lsd_dispatch_decide.
import { DAY, HOUR, MINUTE } from '../../src/time/zoned.js';
import { GITHUB, Rng, badSpells, scheduledStart, type ShopEvent, type StepMoment } from './model.js';

const SECOND = 1000;

/** An enrollment (by its event's n) and when it is next due (null: it ended). */
export interface Enrolled {
  event: ShopEvent;
  dueAt: number | null;
}

/** What the decision function reads, written as ticks and the shop's hooks would write it. */
export interface Tables {
  eventArrived(event: ShopEvent): Promise<void>;
  /** The webhook replied to a follow: it wrote the enrollment, due next at dueAt (docs/reply.md). */
  replied(at: number, enrolled: Enrolled): Promise<void>;
  runStarted(at: number, trigger: string): Promise<void>;
  /** The tick's work: events taken in, enrollments written, enrollments moved on (by event n). */
  tickWork(at: number, taken: ShopEvent[], fresh: Enrolled[], moved: Map<number, number | null>): Promise<void>;
  runFinished(at: number): Promise<void>;
}

/** The dispatcher's decision and GitHub's answer, recorded where the decision reads them. */
export interface Decision {
  start: boolean;
  id?: number | undefined;
  /** Why not start now, and from when a start would be allowed (the function's wait_reason, not_before). */
  waitReason?: string | null | undefined;
  notBefore?: number | null | undefined;
}

export interface Decider {
  decide(at: number, origin: 'cron' | 'webhook'): Promise<Decision>;
  answer(id: number, outcome: 'started' | 'failed', at: number): Promise<void>;
}

export interface ClockPlan {
  /** Cron entries: every `every` minutes from minute `offset` of the hour. */
  schedule: { every: number; offset: number };
  /** The dispatcher, when there is one. */
  decider?: Decider | undefined;
  /**
   * Before this moment the dispatcher is not set up and a schedule every 5 minutes runs (the
   * warm-up: the tables fill as they would, without a month of decisions before the month).
   */
  dispatchFrom?: number | undefined;
  tables: Tables;
  events: ShopEvent[];
  moments: Map<number, StepMoment[]>;
  /** Simulated from start (a warm-up, for steps days after their event) to end; measured over [from, to). */
  start: number;
  from: number;
  to: number;
  seed: number;
}

export interface ClockResult {
  /** Seconds late of each step whose moment falls in [from, to), sent by a run. */
  lateness: number[];
  /** Steps of the month sent by the webhook as the reply to a follow (at once, by no run). */
  replies: number;
  runs: number;
  billedMinutes: number;
  /** Decisions made through the real function, and how many said start. */
  decisions: number;
  /** Asks left out while the function's last answer still held (see decide). */
  heldAsks: number;
  starts: number;
  dropped: number;
}

type Happening =
  | { at: number; kind: 'arrival' }
  | { at: number; kind: 'cron' }
  | { at: number; kind: 'fire' }
  | { at: number; kind: 'warm-fire' }
  | { at: number; kind: 'job'; trigger: string }
  | { at: number; kind: 'tick-start'; job: Job }
  | { at: number; kind: 'tick-work'; job: Job }
  | { at: number; kind: 'tick-end'; job: Job };

interface Job {
  trigger: string;
  startedAt: number;
}

/** A binary heap, earliest first (ties in the order they were pushed). */
class Heap<T extends { at: number }> {
  private items: { h: T; seq: number }[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  private less(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    return x.h.at < y.h.at || (x.h.at === y.h.at && x.seq < y.seq);
  }
  peek(): T | undefined {
    return this.items[0]?.h;
  }
  push(h: T): void {
    const items = this.items;
    items.push({ h, seq: this.seq++ });
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T {
    const items = this.items;
    const top = items[0]!.h;
    const last = items.pop()!;
    if (items.length) {
      items[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(l, m)) m = l;
        if (r < items.length && this.less(r, m)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Enrollments by their next step's moment. */
interface Waiting {
  n: number;
  steps: StepMoment[];
  next: number;
}

export class ClockSimulation {
  private readonly rng: Rng;
  private readonly agenda = new Heap<Happening>();
  private readonly spells: [number, number][];
  private arrivalIndex = 0;
  private readonly arrived: ShopEvent[] = [];
  private readonly waiting = new Heap<{ at: number; n: number }>();
  private readonly enrollments = new Map<number, Waiting>();
  private running: Job | undefined;
  private pendingJob: Job | undefined;
  /** Enrollments the webhook wrote for a reply, due at once until a tick moves them on (docs/reply.md). */
  private readonly replied = new Set<number>();
  /** The function's last hold: not asked again before `until`, nor before `event` happens. */
  private held: { until: number; event?: 'tick-start' | 'tick-end' | undefined } = { until: -Infinity };
  private readonly result: ClockResult = {
    lateness: [],
    replies: 0,
    runs: 0,
    billedMinutes: 0,
    decisions: 0,
    heldAsks: 0,
    starts: 0,
    dropped: 0,
  };

  constructor(private readonly plan: ClockPlan) {
    this.rng = new Rng(plan.seed);
    this.spells = badSpells(new Rng(plan.seed + 1), plan.start, plan.to + DAY);
  }

  async run(): Promise<ClockResult> {
    const { plan } = this;
    const end = plan.to + DAY; // steps of the month's end are sent before the count closes
    const every = plan.schedule.every * MINUTE;
    const firstFire = Math.ceil((plan.start - plan.schedule.offset * MINUTE) / every) * every;
    this.agenda.push({ at: firstFire + plan.schedule.offset * MINUTE, kind: 'fire' });
    const dispatchFrom = plan.dispatchFrom ?? plan.start;
    if (plan.decider) this.agenda.push({ at: Math.ceil(dispatchFrom / MINUTE) * MINUTE, kind: 'cron' });
    if (plan.decider && dispatchFrom > plan.start)
      this.agenda.push({ at: Math.ceil(plan.start / (5 * MINUTE)) * 5 * MINUTE, kind: 'warm-fire' });
    if (plan.events.length) this.agenda.push({ at: plan.events[0]!.at, kind: 'arrival' });
    while (this.agenda.size) {
      const h = this.agenda.pop();
      if (h.at >= end) break;
      await this.handle(h, every);
    }
    return this.result;
  }

  private async handle(h: Happening, every: number): Promise<void> {
    switch (h.kind) {
      case 'arrival':
        return this.arrival(h.at);
      case 'cron':
        this.agenda.push({ at: h.at + MINUTE, kind: 'cron' });
        return this.decide(h.at, 'cron');
      case 'warm-fire':
        if (h.at + 5 * MINUTE < (this.plan.dispatchFrom ?? 0))
          this.agenda.push({ at: h.at + 5 * MINUTE, kind: 'warm-fire' });
        return this.fire(h.at);
      case 'fire':
        this.agenda.push({ at: h.at + every, kind: 'fire' });
        return this.fire(h.at);
      case 'job':
        return this.job({ trigger: h.trigger, startedAt: h.at });
      case 'tick-start':
        if (this.held.event === 'tick-start') this.held = { until: -Infinity };
        await this.plan.tables.runStarted(h.at, h.job.trigger);
        this.agenda.push({ at: h.at + SECOND, kind: 'tick-work', job: h.job });
        return;
      case 'tick-work':
        return this.tickWork(h.at, h.job);
      case 'tick-end':
        return this.tickEnd(h.at, h.job);
    }
  }

  /** A schedule entry: GitHub creates its run late, or drops it. */
  private fire(at: number): void {
    const created = scheduledStart(this.rng, at, this.spells);
    if (created === null) this.result.dropped += 1;
    else this.agenda.push({ at: created, kind: 'job', trigger: 'schedule' });
  }

  private async arrival(at: number): Promise<void> {
    const event = this.plan.events[this.arrivalIndex++]!;
    const next = this.plan.events[this.arrivalIndex];
    if (next) this.agenda.push({ at: next.at, kind: 'arrival' });
    this.arrived.push(event);
    await this.plan.tables.eventArrived(event);
    await this.reply(at, event);
    // The LINE webhook and shop-events ask for a start after recording an event.
    await this.decide(at, 'webhook');
  }

  /** A follow whose first step is a reply: the webhook sends it at once and writes the enrollment. */
  private async reply(at: number, event: ShopEvent): Promise<void> {
    const steps = this.plan.moments.get(event.n) ?? [];
    if (!steps[0]?.reply) return;
    if (at >= this.plan.from && at < this.plan.to) this.result.replies += 1;
    const rest = steps.slice(1);
    if (rest.length) this.enrol(event.n, rest);
    this.replied.add(event.n);
    // As lsd_reply_commit writes it: due at the reply's moment, until a tick moves it on.
    await this.plan.tables.replied(at, { event, dueAt: at });
  }

  private enrol(n: number, steps: StepMoment[]): void {
    this.enrollments.set(n, { n, steps, next: 0 });
    this.waiting.push({ at: steps[0]!.at, n });
  }

  /**
   * The real decision, asked when the world holds something due. Left out, to keep a month to
   * minutes, are the asks whose answer is already known: with nothing due (no event waiting to
   * be taken in, no step whose moment has come) the function can only answer "nothing is
   * due"; and after it answered "wait", it is not asked again before what holds it can change:
   * its own not_before (the minimum gap, the budget's pace), the running tick's end, the
   * requested run's start.
   */
  private async decide(at: number, origin: 'cron' | 'webhook'): Promise<void> {
    const decider = this.plan.decider;
    if (!decider || at < (this.plan.dispatchFrom ?? -Infinity)) return;
    // (A step due within the minute counts: a decision may look ahead; asking more never changes its answers.)
    const somethingDue = this.arrived.length > 0 || this.replied.size > 0 || this.peekDue() <= at + MINUTE;
    if (!somethingDue) return;
    if (at < this.held.until || this.held.event === 'tick-end') {
      this.result.heldAsks += 1;
      return;
    }
    this.result.decisions += 1;
    const d = await decider.decide(at, origin);
    if (!d.start) this.held = holdOf(d, at);
    if (!d.start || d.id === undefined) return;
    this.result.starts += 1;
    const answeredAt = at + 300;
    if (this.rng.chance(GITHUB.dispatchFailure)) return decider.answer(d.id, 'failed', answeredAt);
    await decider.answer(d.id, 'started', answeredAt);
    this.agenda.push({ at: at + this.rng.between(...GITHUB.dispatchStart), kind: 'job', trigger: 'workflow_dispatch' });
  }

  private peekDue(): number {
    return this.waiting.peek()?.at ?? Infinity;
  }

  /** The concurrency group: one running, one pending; a newer pending replaces the older. */
  private job(job: Job): void {
    if (this.running) {
      this.pendingJob = job;
      return;
    }
    this.begin(job, job.startedAt);
  }

  private begin(job: Job, at: number): void {
    this.running = { ...job, startedAt: at };
    this.agenda.push({ at: at + this.rng.between(...GITHUB.jobSetup), kind: 'tick-start', job: this.running });
  }

  private async tickWork(at: number, job: Job): Promise<void> {
    const taken = this.arrived.splice(0);
    // Events the webhook answered by reply are enrolled already.
    const fresh = taken.filter((e) => !this.plan.moments.get(e.n)?.[0]?.reply);
    for (const event of fresh) {
      const steps = this.plan.moments.get(event.n) ?? [];
      if (steps.length) this.enrol(event.n, steps);
    }
    const served: { due: number }[] = [];
    const next = new Map<number, number | null>();
    while (this.peekDue() <= at) {
      const { n } = this.waiting.pop();
      const w = this.enrollments.get(n)!;
      while (w.next < w.steps.length && w.steps[w.next]!.at <= at) served.push({ due: w.steps[w.next++]!.at });
      const following = w.steps[w.next];
      next.set(n, following ? following.at : null);
      if (following) this.waiting.push({ at: following.at, n });
      else this.enrollments.delete(n);
    }
    // The webhook's enrollments move on to their next step (or end).
    for (const n of this.replied) {
      const w = this.enrollments.get(n);
      if (!next.has(n)) next.set(n, w ? (w.steps[w.next]?.at ?? null) : null);
    }
    this.replied.clear();
    const written = fresh.map((event) => {
      const dueAt = next.has(event.n) ? next.get(event.n)! : (this.enrollments.get(event.n)?.steps[0]?.at ?? null);
      next.delete(event.n);
      return { event, dueAt };
    });
    const sentAt = at + SECOND + served.length;
    for (const s of served)
      if (s.due >= this.plan.from && s.due < this.plan.to) this.result.lateness.push((sentAt - s.due) / SECOND);
    await this.plan.tables.tickWork(at, taken, written, next);
    this.agenda.push({ at: sentAt + SECOND, kind: 'tick-end', job });
  }

  private async tickEnd(at: number, job: Job): Promise<void> {
    if (this.held.event === 'tick-end') this.held = { until: -Infinity };
    await this.plan.tables.runFinished(at);
    if (job.startedAt >= this.plan.from && job.startedAt < this.plan.to) {
      this.result.runs += 1;
      this.result.billedMinutes += Math.max(1, Math.ceil((at - job.startedAt) / MINUTE));
    }
    this.running = undefined;
    const pending = this.pendingJob;
    this.pendingJob = undefined;
    if (pending) this.begin(pending, at);
  }
}

/** The month measured: [from, to) of the calendar month holding `at` (UTC). */
export function monthOf(at: number): { from: number; to: number } {
  const d = new Date(at);
  return {
    from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    to: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

export const WARM_UP = 8 * DAY + HOUR;

/** Until when a "wait" answer holds: its not_before, or the happening that ends it. */
function holdOf(d: Decision, at: number): { until: number; event?: 'tick-start' | 'tick-end' } {
  const reason = d.waitReason ?? '';
  if (reason.startsWith('a tick is running')) return { until: Infinity, event: 'tick-end' };
  // Held until the requested run begins, or the function's own timeout for it.
  if (reason.startsWith('a start was requested')) return { until: d.notBefore ?? at, event: 'tick-start' };
  return { until: d.notBefore ?? at };
}
