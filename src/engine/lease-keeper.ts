// Keeps a long tick's leases alive. The enrollments a planning page holds and the outbox
// batches the sender has claimed are leased for leaseSeconds; a tick that runs longer (a
// million due at LINE's limit, rate-limit waits) renews, every third of the lease, the
// leases it still holds, so that another tick started meanwhile takes over none of its
// work in flight. What a tick gives back (committed, recorded) it lets go of here. It also
// beats the run's heartbeat (runs.heartbeat_at), which the dispatcher reads to know a tick
// is still going however long it runs.
import type { Store } from '../store/store.js';
import { runHeartbeat } from '../store/dispatcher.js';

export class LeaseKeeper {
  private readonly enrollments = new Set<string>();
  private readonly batches = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<unknown> = Promise.resolve();
  /** Renewals made (each renews every lease held at that moment). */
  renewals = 0;

  constructor(
    private readonly args: {
      store: Store;
      owner: string;
      leaseSeconds: number;
      now: () => number;
      everyMs?: number;
      /** The sending tick's run, whose heartbeat each renewal beats. */
      runId?: string | undefined;
    },
  ) {}

  holdEnrollments(ids: Iterable<string>): void {
    for (const id of ids) this.enrollments.add(id);
  }

  releaseEnrollments(ids: Iterable<string>): void {
    for (const id of ids) this.enrollments.delete(id);
  }

  holdBatches(ids: Iterable<string>): void {
    for (const id of ids) this.batches.add(id);
  }

  releaseBatches(ids: Iterable<string>): void {
    for (const id of ids) this.batches.delete(id);
  }

  start(): this {
    const everyMs = this.args.everyMs ?? (this.args.leaseSeconds * 1000) / 3;
    this.timer = setInterval(() => void this.renew(), everyMs);
    // A renewal never keeps the process alive by itself.
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }

  /**
   * One renewal at a time. A failed one is not fatal: the next comes a third of a lease
   * later, before the lease runs out.
   */
  renew(): Promise<unknown> {
    const { store, owner, leaseSeconds, now, runId } = this.args;
    const leases = this.enrollments.size > 0 || this.batches.size > 0;
    if (!leases && !runId) return this.renewing;
    this.renewing = this.renewing
      .then(() => (runId ? runHeartbeat(store.rpc, { id: runId, now: now() }) : undefined))
      .then(() =>
        leases
          ? store.renewLeases({
              now: now(),
              owner,
              leaseSeconds,
              enrollmentIds: [...this.enrollments],
              batchIds: [...this.batches],
            })
          : undefined,
      )
      .then(() => this.renewals++)
      .catch(() => {});
    return this.renewing;
  }
}
