// Paces requests evenly at `perSecond` (a token bucket of one token): any one-second
// window holds at most perSecond + 1 starts, so a tick runs close to LINE's per-channel
// limits without crossing them. Each caller gets its own slot, so concurrent callers
// share the rate. Callers whose slot is later wait in one queue behind one timer (slots
// are handed out in order, so the queue is in order too): at 1,900 a second that is one
// wake-up a millisecond, not a timer per request.
export class RateLimiter {
  private nextFree = 0;
  private readonly intervalMs: number;
  private readonly waiting: { at: number; go: () => void }[] = [];
  private head = 0;
  private timerArmed = false;

  constructor(
    perSecond: number,
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(perSecond > 0)) throw new Error(`a rate must be above zero, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
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
