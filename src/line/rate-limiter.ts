// Paces requests evenly at `perSecond` (a token bucket of one token): any one-second
// window holds at most perSecond + 1 starts, so a tick runs close to LINE's per-channel
// limits without crossing them. Each caller gets its own slot, so concurrent callers
// share the rate.
export class RateLimiter {
  private nextFree = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(perSecond > 0)) throw new Error(`a rate must be above zero, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
  }

  async acquire(): Promise<void> {
    const now = this.clock();
    const start = Math.max(this.nextFree, now);
    this.nextFree = start + this.intervalMs;
    const wait = start - now;
    if (wait > 0) await this.sleep(wait);
  }

  /** After a rate-limit answer: leave a gap before the next request. */
  pause(ms: number): void {
    this.nextFree = Math.max(this.nextFree, this.clock() + ms);
  }
}
