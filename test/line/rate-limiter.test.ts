// The pacing under LINE's limits, on a simulated clock: even spacing, shared by concurrent
// callers, and no burst over the limit after a stall (a GC pause, a busy runner).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/line/rate-limiter.js';

/** A clock whose timers fire when run() gets to them, `lateBy(at)` ms late (a stall). */
class SimulatedTime {
  now = 0;
  private timers: { at: number; fire: () => void }[] = [];
  readonly clock = () => this.now;
  readonly sleep = (ms: number) => new Promise<void>((fire) => this.timers.push({ at: this.now + ms, fire }));

  async run(lateBy: (at: number) => number = () => 0): Promise<void> {
    await new Promise((r) => setImmediate(r));
    while (this.timers.length) {
      this.timers.sort((a, b) => a.at - b.at);
      const timer = this.timers.shift()!;
      this.now = Math.max(this.now, timer.at + lateBy(timer.at));
      timer.fire();
      await new Promise((r) => setImmediate(r));
    }
  }
}

/** Starts of `callers` callers each taking `each` slots, with timers `lateBy` late. */
async function starts(
  perSecond: number,
  callers: number,
  each: number,
  lateBy?: (at: number) => number,
): Promise<number[]> {
  const time = new SimulatedTime();
  const limiter = new RateLimiter(perSecond, time.clock, time.sleep);
  const at: number[] = [];
  const done = Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < each; i++) {
        await limiter.take();
        at.push(time.now);
      }
    }),
  );
  await time.run(lateBy);
  await done;
  return at;
}

/** The most starts in any one-second window. */
function busiestSecond(at: number[]): number {
  const sorted = [...at].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

test('concurrent callers share one even pace', async () => {
  const at = await starts(20, 8, 10);
  assert.equal(at.length, 80);
  const sorted = at.sort((a, b) => a - b);
  assert.ok(
    sorted.every((t, i) => i === 0 || t - sorted[i - 1]! >= 50 - 1e-9),
    'a slot every 50 ms',
  );
  assert.ok(sorted.at(-1)! >= 79 * 50, `80 starts at 20 a second take ${sorted.at(-1)} ms`);
  assert.ok(busiestSecond(at) <= 20);
});

test('after a stall the slots that passed are not sent as one burst over the limit', async () => {
  // Every timer between 2 s and 2.6 s fires at 2.6 s: 12 slots fall due at once, on top of
  // the 20 of the second before.
  const stall = (at: number) => (at >= 2000 && at < 2600 ? 2600 - at : 0);
  const at = await starts(20, 16, 10, stall);
  assert.equal(at.length, 160);
  assert.ok(busiestSecond(at) <= 20, `${busiestSecond(at)} starts in one second`);
  // The catch-up is as fast as the limit allows: the 160 starts end within a second of the
  // stall-free schedule.
  assert.ok(Math.max(...at) <= 159 * 50 + 1000, `last start at ${Math.max(...at)} ms`);
});

test('a fractional rate rounds its window up: 47.5 a second keeps 48 starts a second at most', async () => {
  const at = await starts(47.5, 10, 20, (t) => (t >= 1000 && t < 1500 ? 1500 - t : 0));
  assert.ok(busiestSecond(at) <= 48, `${busiestSecond(at)} starts in one second`);
});
