// Paces requests evenly at `perSecond`, and holds any one-second window (sliding) to at
// most ceil(perSecond) starts, so a tick runs close to LINE's per-channel limits without
// crossing them. Each caller gets its own slot, so concurrent callers share the rate.
//
// acquire() hands out slots: callers whose slot is later wait in one queue behind one timer
// (slots are handed out in order, so the queue is in order too): at 1,960 a second that is
// one wake-up a millisecond, not a timer per request. startNow() is called right before the
// request goes out, in the same synchronous step: after a stall (a long GC pause, a busy
// event loop) the slots that passed meanwhile are all due at once, and the window check
// spreads them out again instead of sending them as one burst over LINE's limit.
export class RateLimiter {
  private nextFree = 0;
  private readonly intervalMs: number;
  private readonly waiting: { at: number; go: () => void }[] = [];
  private head = 0;
  private timerArmed = false;
  /** The last ceil(perSecond) start times, oldest at `oldest`; empty when the rate is too high to track. */
  private readonly starts: Float64Array;
  private oldest = 0;

  constructor(
    perSecond: number,
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(perSecond > 0)) throw new Error(`a rate must be above zero, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
    const window = Math.ceil(perSecond);
    this.starts = new Float64Array(window <= 100_000 ? window : 0).fill(-Infinity);
  }

  /** Takes the next slot: undefined when it is now, else a promise that resolves at it. */
  acquire(): Promise<void> | undefined {
    const now = this.clock();
    const start = Math.max(this.nextFree, now);
    this.nextFree = start + this.intervalMs;
    if (start <= now) return undefined;
    return new Promise<void>((go) => {
      this.waiting.push({ at: start, go });
      this.arm(now);
    });
  }

  /**
   * Right before a request starts: undefined when it may start now (recorded as started),
   * else a promise to wait on before asking again, because the last second is full.
   */
  startNow(): Promise<void> | undefined {
    if (this.starts.length === 0) return undefined;
    const now = this.clock();
    const freeAt = this.starts[this.oldest]! + 1000;
    if (freeAt > now) return this.sleep(freeAt - now);
    this.starts[this.oldest] = now;
    this.oldest = (this.oldest + 1) % this.starts.length;
    return undefined;
  }

  /** A slot, then the window: resolves when a request may start (tests; the sender inlines it). */
  async take(): Promise<void> {
    const slot = this.acquire();
    if (slot) await slot;
    for (let full = this.startNow(); full; full = this.startNow()) await full;
  }

  /** After a rate-limit answer: leave a gap before the next request. */
  pause(ms: number): void {
    this.nextFree = Math.max(this.nextFree, this.clock() + ms);
  }

  private arm(now: number): void {
    if (this.timerArmed || this.head >= this.waiting.length) return;
    this.timerArmed = true;
    // Timers fire late, never early: no caller starts before its slot.
    void this.sleep(Math.max(0, this.waiting[this.head]!.at - now)).then(() => this.release());
  }

  private release(): void {
    this.timerArmed = false;
    const now = this.clock();
    while (this.head < this.waiting.length && this.waiting[this.head]!.at <= now) this.waiting[this.head++]!.go();
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head >= 64) {
      // Drop the released waiters, which would otherwise stay reachable.
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    this.arm(now);
  }
}
