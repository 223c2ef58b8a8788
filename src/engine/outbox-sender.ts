// The send phase of a tick: claims pending outbox batches page by page, sends each to LINE
// and records what LINE answered.
//
// A pipeline, so that requests stay in flight without pause: the next page of batches is
// claimed while the last ones of this page are still being sent, and answers are recorded
// in the background. (Sending a page, waiting for its slowest answer, then recording and
// claiming would idle the connection for a round trip per page: over the ~100 ms between a
// runner and LINE that is half the rate.) It starts while planning still commits pages
// (plannerStarted, planned, plannerDone): its first claim waits for a page's worth of
// batches, and an empty claim waits for the next committed page instead of ending the
// phase. A crash before an answer is recorded leaves the batch marked as attempted, so the
// next tick resends it with the same retry key and LINE answers 409.
import type { CompiledScenario } from '../scenario/compile.js';
import { isRichMenuBatch, type ClaimedBatch, type RichMenuBatch, type SendResult } from '../domain.js';
import type { Store } from '../store/store.js';
import { RichMenuOrder } from '../line/rich-menu.js';
import type { Sender } from '../line/sender.js';
import type { TickCounts } from './counts.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { exitTypesOf, recipientsWhoLeft } from './decide/outbox-exits.js';

export type SendStop = 'monthly_limit' | 'unauthorized';

/** While planning goes on, how often a claim takes the multicasts not yet full. */
const MERGING_CLAIM_EVERY_MS = 1000;

export interface OutboxSenderOptions {
  store: Store;
  sender: Sender;
  owner: string;
  now: () => number;
  counts: TickCounts;
  leaseSeconds: number;
  leases: LeaseKeeper;
  /** Messages (recipients) of the monthly quota to keep unused. */
  quotaReserve: number;
  /** Only batches of these scenarios. */
  scenarioIds: string[];
  scenarios: Map<string, CompiledScenario>;
  /** Batches planned before this moment are checked for recipients who left. */
  checkedBefore: number;
  /** Batches claimed per call. */
  pageSize?: number;
  /** While planning goes on, how often a claim takes the multicasts not yet full. */
  mergingClaimEveryMs?: number | undefined;
  /** The run whose lateness the sent steps count in (run_lateness), if any. */
  runId?: string | undefined;
  /**
   * Writes of answers in flight at once (default 1). With the database far away a write
   * waits a round trip beside its work, and at LINE's push rate one at a time falls behind:
   * each write takes its own batches, so two at once record the same answers.
   */
  recordsInFlight?: number | undefined;
}

export class OutboxSender {
  private readonly pageSize: number;
  private readonly exitTypes: Record<string, string[]>;
  private readonly queue: ClaimedBatch[] = [];
  private head = 0;
  private exhausted = false;
  private claiming: Promise<void> | undefined;
  private results: SendResult[] = [];
  private recording: Promise<unknown> = Promise.resolve();
  private allowance = Infinity;
  /** What LINE's monthly limit leaves, less what this tick has in flight or sent. */
  private monthLeft = Infinity;
  private triedSince = 0;
  private stop: SendStop | undefined;
  /** While the planner still commits pages, an empty claim is not the end. */
  private plannerRunning = false;
  /** Batches the planner committed since the last claim. */
  private plannedSinceClaim = 0;
  /** What a waiting claim waits for: batches planned since the last claim. */
  private awaited = 1;
  private firstClaim = true;
  /** When the last claim that took multicasts not yet full began (performance.now()). */
  private lastMergingClaim = performance.now();
  private wakeUp: (() => void) | undefined;

  constructor(private readonly o: OutboxSenderOptions) {
    this.pageSize = o.pageSize ?? 200;
    this.exitTypes = exitTypesOf(o.scenarios.values());
  }

  /** Planning is under way: claims that find nothing wait for planned() or plannerDone(). */
  plannerStarted(): void {
    this.plannerRunning = true;
  }

  /** A planning page committed this many batches: a claim waiting for a page's worth goes on. */
  planned(batches: number): void {
    this.plannedSinceClaim += batches;
    if (this.plannedSinceClaim >= this.awaited) this.wakeUp?.();
  }

  plannerDone(): void {
    this.plannerRunning = false;
    this.wakeUp?.();
  }

  /** Sends until the outbox is empty (and planning done), or a stop; returns the stop, if any. */
  async run(): Promise<SendStop | undefined> {
    const { sender, counts } = this.o;
    // The quota guard: never start a batch that LINE's monthly limit cannot take, or that
    // would eat into the reserve.
    const quota = sender.quota
      ? await sender.quota().catch((error: unknown) => {
          counts.quotaUnread = error instanceof Error ? error.message : String(error);
          return undefined;
        })
      : undefined;
    this.monthLeft = quota && quota.limit !== null ? quota.limit - quota.used : Infinity;
    this.allowance = this.monthLeft - this.o.quotaReserve;
    if (quota) counts.quota = { limit: quota.limit, usedBefore: quota.used };
    // Batches this tick already tried are not claimed again in it: a deferred one waits.
    this.triedSince = this.o.now();

    const concurrency = Math.max(1, sender.concurrency ?? 1);
    const workers = await Promise.allSettled(Array.from({ length: concurrency }, () => this.work()));
    await this.claiming?.catch(() => {});
    // Batches claimed but not started (a stop, or a worker that failed): given back as
    // deferred, for the next tick.
    const why = this.stop ? `not sent: ${this.stop}` : 'not sent: the tick failed';
    for (const batch of this.queue.slice(this.head)) this.giveBack(batch, why);
    await this.record();
    const failed = workers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) throw failed.reason;
    return this.stop;
  }

  /** One of `concurrency` workers: takes the next claimed batch and sends it. */
  private async work(): Promise<void> {
    for (;;) {
      // Claim the next page while a whole page is still to start (a claim takes tens of ms,
      // and at LINE's 2,000/s half a page lasts 50). An error here is met again by the
      // worker that next waits for a claim.
      if (!this.exhausted && !this.stop && this.queue.length - this.head <= this.pageSize)
        void this.claim().catch(() => {});
      if (this.head >= this.queue.length) {
        if (this.exhausted || this.stop) return;
        await this.claim();
        continue;
      }
      const batch = this.queue[this.head++]!;
      if (this.head >= 1000) {
        // Let what was sent be collected.
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      await this.sendOne(batch);
    }
  }

  private async sendOne(batch: ClaimedBatch): Promise<void> {
    if (isRichMenuBatch(batch)) return this.sendRichMenu(batch);
    const { counts } = this.o;
    const n = batch.recipients.length;
    const held = this.held(n);
    if (held) {
      this.giveBack(batch, held.why);
      if (held.by === 'reserve') counts.heldBackByQuota += n;
      if (held.by === 'monthly limit') counts.heldBackByMonthlyLimit += n;
      return;
    }
    this.allowance -= n;
    this.monthLeft -= n;
    const report = await this.o.sender.send(batch);
    this.results.push({
      batchId: batch.id,
      outcome: report.outcome,
      requestId: report.requestId,
      error: report.error,
      // LINE's acceptance: the end of this tick's lateness for the batch's steps.
      ...(report.outcome === 'sent' ? { acceptedAt: this.o.now() } : {}),
    });
    const what = report.outcome === 'sent' ? 'sent' : report.outcome === 'failed' ? 'failed' : 'deferred';
    counts.add(batch.scenarioId, batch.stepId, what, n);
    if (report.outcome !== 'sent') {
      this.allowance += n;
      this.monthLeft += n;
    }
    if (report.outcome === 'failed' && report.error)
      counts.noteFailure(batch.scenarioId, batch.stepId, report.error.message, n, 1);
    if (report.outcome === 'uncertain') counts.uncertain += 1;
    if (report.stop) this.stop = report.stop;
    if (this.results.length >= this.pageSize) void this.record().catch(() => {});
  }

  /** Why a batch of n recipients is not started now, and what held it: a stop, LINE's monthly limit, or the reserve. */
  private held(n: number): { why: string; by?: 'monthly limit' | 'reserve' } | undefined {
    if (this.stop) return { why: `not sent: ${this.stop}` };
    if (n > this.monthLeft) {
      const left = Math.max(0, this.monthLeft);
      // The month used up (LINE's quota endpoints said so, or this tick's sends did it): the
      // same stop as LINE's 429 "monthly limit", a person must act; the rest waits, unclaimed.
      if (left === 0) this.stop = 'monthly_limit';
      return {
        why: `held back: LINE's monthly limit leaves ${left} message(s) this month, fewer than its ${n} recipient(s)`,
        by: 'monthly limit',
      };
    }
    if (n > this.allowance) return { why: 'held back: it would cross the quota reserve', by: 'reserve' };
    return undefined;
  }

  // --- Rich menu batches (issue 18; src/line/rich-menu.ts): no message quota, a user's
  // changes in created order, counted apart from messages.
  private readonly richMenus = new RichMenuOrder();

  private async sendRichMenu(batch: RichMenuBatch): Promise<void> {
    const { counts, sender } = this.o;
    const n = batch.recipients.length;
    const report = this.stop
      ? { outcome: 'deferred' as const, error: { message: `not sent: ${this.stop}` } }
      : await this.richMenus.send(batch, () =>
          sender.richMenu
            ? sender.richMenu(batch)
            : Promise.resolve({
                outcome: 'deferred' as const,
                error: { message: 'this sender cannot change rich menus' },
              }),
        );
    this.results.push({
      batchId: batch.id,
      outcome: report.outcome,
      requestId: report.requestId,
      error: report.error,
    });
    if (report.outcome === 'sent') counts.noteRichMenu(batch.kind, n);
    else counts.add(batch.scenarioId, batch.stepId, report.outcome === 'failed' ? 'failed' : 'deferred', n);
    if (report.outcome === 'failed' && report.error)
      counts.noteFailure(batch.scenarioId, batch.stepId, report.error.message, n, 1);
    if (report.outcome === 'uncertain') counts.uncertain += 1;
    if ('stop' in report && report.stop) this.stop = report.stop;
    if (this.results.length >= this.pageSize) void this.record().catch(() => {});
  }
  // --- end of rich menu batches

  /** One claim at a time; its batches join the queue. */
  private claim(): Promise<void> {
    return (this.claiming ??= this.claimPage().finally(() => (this.claiming = undefined)));
  }

  private async claimPage(): Promise<void> {
    const { store, owner, counts } = this.o;
    // While planning goes on, a claim waits for a page's worth of batches (or the end of
    // planning): the claim merges a step's identical batches of the pages it takes, so a
    // claim after every planning page would send a step as many small multicasts.
    // (Later claims take what is there: the sender is slower than the planner, so a backlog builds.)
    if (this.firstClaim) await this.nextPlanned(this.pageSize);
    this.firstClaim = false;
    this.plannedSinceClaim = 0;
    const plannerRunning = this.plannerRunning;
    // While planning goes on, multicasts that are not full wait for a merging claim about
    // once a second (which takes the rest of each group it meets and packs them into full
    // multicasts): a claim after each planning page would send a step as one small
    // multicast per page.
    const every = this.o.mergingClaimEveryMs ?? MERGING_CLAIM_EVERY_MS;
    const merging = !plannerRunning || performance.now() - this.lastMergingClaim >= every;
    if (merging) this.lastMergingClaim = performance.now();
    const claimed = await store.claimBatches({
      now: this.o.now(),
      owner,
      limit: this.pageSize,
      holdPartial: !merging,
      leaseSeconds: this.o.leaseSeconds,
      triedSince: this.triedSince,
      scenarioIds: this.o.scenarioIds,
      exitTypes: this.exitTypes,
      checkedBefore: this.o.checkedBefore,
    });
    counts.needsReview += claimed.needsReview;
    this.o.leases.holdBatches(claimed.batches.map((b) => b.id));
    // (A page whose every batch was skipped, everyone having left, is not the last one.)
    if (!claimed.batches.length && !claimed.skipped.length) {
      // Nothing yet: the next committed page, or the end of planning.
      if (plannerRunning) await this.nextPlanned(1);
      else this.exhausted = true;
      return;
    }
    // Recipients who left (an exit, an unfollow) after the batch was planned are not sent it.
    const skipped = [...claimed.skipped];
    let batches = claimed.batches;
    const drops = recipientsWhoLeft(claimed.exitEvents, batches, this.o.scenarios);
    if (drops.length) {
      const dropped = await store.dropRecipients({ now: this.o.now(), owner, drops });
      skipped.push(...dropped.skipped);
      const changed = new Map(dropped.batches.map((b) => [b.id, b]));
      batches = batches.flatMap((b) => {
        const c = changed.get(b.id);
        if (!c) return [b];
        if (c.status !== 'pending') this.o.leases.releaseBatches([b.id]);
        return c.status === 'pending' ? [{ ...b, recipients: c.recipients, kind: c.kind } as ClaimedBatch] : [];
      });
    }
    for (const s of skipped) counts.noteSkip(s.scenarioId, s.stepId, s.reason, s.count);
    this.queue.push(...batches);
  }

  /** Resolves once `batches` were planned since the last claim, or planning ended. */
  private nextPlanned(batches: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.awaited = batches;
      this.wakeUp = () => {
        this.wakeUp = undefined;
        resolve();
      };
      if (!this.plannerRunning || this.plannedSinceClaim >= batches) this.wakeUp();
    });
  }

  /** Writes the answers gathered so far: one write at a time, in order; a failed write fails the tick. */
  private record(): Promise<unknown> {
    if ((this.o.recordsInFlight ?? 1) > 1) return this.recordBeside();
    if (!this.results.length) return this.recording;
    const chunk = this.results;
    this.results = [];
    const { store, owner, now, leases } = this.o;
    this.recording = this.recording
      .then(() => store.recordResults({ now: now(), owner, results: chunk, runId: this.o.runId }))
      .then(() => leases.releaseBatches(chunk.map((r) => r.batchId)));
    return this.recording;
  }

  // --- Several writes of answers at once (recordsInFlight, issue 25): each chunk goes to the
  // next of recordsInFlight chains in turn; a chain writes one chunk at a time. What is
  // awaited is every chain, so a failed write still fails the tick.
  private recordChains: Promise<unknown>[] = [];
  private nextChain = 0;

  private recordBeside(): Promise<unknown> {
    if (this.results.length) {
      const chunk = this.results;
      this.results = [];
      const { store, owner, now, leases } = this.o;
      const i = this.nextChain++ % (this.o.recordsInFlight ?? 1);
      this.recordChains[i] = (this.recordChains[i] ?? Promise.resolve())
        .then(() => store.recordResults({ now: now(), owner, results: chunk, runId: this.o.runId }))
        .then(() => leases.releaseBatches(chunk.map((r) => r.batchId)));
      this.recording = Promise.all(this.recordChains);
    }
    return this.recording;
  }
  // --- end of several writes at once

  /** Not sent in this tick: left pending for the next one, with why. */
  private giveBack(batch: ClaimedBatch, message: string): void {
    this.results.push({ batchId: batch.id, outcome: 'deferred', error: { message } });
    this.o.counts.add(batch.scenarioId, batch.stepId, 'deferred', batch.recipients.length);
  }
}
