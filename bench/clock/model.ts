// The world of the clock benchmark: a seeded random source, GitHub's scheduler and runners as
// modelled from GitHub's documentation and public reports, the two reference shops, and the
// moments the sample scenarios give each event (from the planner's own timeline()).
//
// GitHub, as modelled here (each figure a constant below, said again in docs/costs.md):
// - A schedule entry due at minute m of the hour is dropped with a share that is worst at
//   :00 (10%), 3% at the other multiples of 5, 1% elsewhere; otherwise its run is created
//   after a lognormal delay whose median is 8 min at :00, 3 min at the other multiples of 5,
//   90 s elsewhere (GitHub documents delays under load, worst at the start of every hour).
// - Bad spells: each day, with a chance of 1 in 15, three hours in which 80% of scheduled
//   runs are dropped and the rest come 30-90 min late (public reports of runs hours late and
//   of schedules skipped for half a day).
// - workflow_dispatch: the run starts 15-60 s after the call (uniform), unaffected by the
//   scheduler's load; 1% of calls fail (a 5xx, no run), recorded as failed.
// - A job spends 15-30 s on its runner before the tick starts (checkout, setup); it is
//   billed in whole minutes from its start to its end.
// - The workflow's concurrency group holds one running and one pending run; a newer pending
//   run replaces the older (which is cancelled before it starts, and not billed).
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { CompiledScenario } from '../../src/scenario/compile.js';
import { timeline } from '../../src/planner/timeline.js';
import { DAY, HOUR, MINUTE, localParts } from '../../src/time/zoned.js';

const SECOND = 1000;

/** A seeded random source (xoroshiro128+): the same seed, the same month. */
export class Rng {
  private readonly g;
  constructor(seed: number) {
    this.g = xoroshiro128plus(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return uniformFloat64(this.g);
  }
  between(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Lognormal with this median and shape (Box-Muller). */
  lognormal(median: number, sigma: number): number {
    const z = Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
    return median * Math.exp(sigma * z);
  }
}

export const GITHUB = {
  dropAtHour: 0.1,
  dropAtFive: 0.03,
  dropElsewhere: 0.01,
  medianAtHour: 8 * MINUTE,
  medianAtFive: 3 * MINUTE,
  medianElsewhere: 90 * SECOND,
  sigma: 0.8,
  badSpellChancePerDay: 1 / 15,
  badSpellLength: 3 * HOUR,
  badSpellDrop: 0.8,
  badSpellExtra: [30 * MINUTE, 90 * MINUTE] as const,
  dispatchStart: [15 * SECOND, 60 * SECOND] as const,
  dispatchFailure: 0.01,
  jobSetup: [15 * SECOND, 30 * SECOND] as const,
};

/** The bad spells of the days [from, to): [start, end) intervals. */
export function badSpells(rng: Rng, from: number, to: number): [number, number][] {
  const spells: [number, number][] = [];
  for (let day = from; day < to; day += DAY) {
    if (!rng.chance(GITHUB.badSpellChancePerDay)) continue;
    const start = day + rng.between(0, DAY - GITHUB.badSpellLength);
    spells.push([start, start + GITHUB.badSpellLength]);
  }
  return spells;
}

/** When a scheduled run due at `at` is created, or null when GitHub drops it. */
export function scheduledStart(rng: Rng, at: number, spells: [number, number][]): number | null {
  const minute = new Date(at).getUTCMinutes();
  const top = minute === 0;
  const five = minute % 5 === 0;
  const drop = top ? GITHUB.dropAtHour : five ? GITHUB.dropAtFive : GITHUB.dropElsewhere;
  if (rng.chance(drop)) return null;
  const median = top ? GITHUB.medianAtHour : five ? GITHUB.medianAtFive : GITHUB.medianElsewhere;
  let delay = rng.lognormal(median, GITHUB.sigma);
  if (spells.some(([a, b]) => at >= a && at < b)) {
    if (rng.chance(GITHUB.badSpellDrop)) return null;
    delay += rng.between(...GITHUB.badSpellExtra);
  }
  return at + delay;
}

/** A reference shop: its friends, and its events a day. */
export interface Shop {
  name: 'busy' | 'quiet';
  friends: number;
  follows: number;
  carts: number;
  purchases: number;
}

// Purchases are not given by the issue: half the carts' number is assumed (each starts the
// thank-you scenario); a third of the carts are bought before their coupon, which is then not sent.
export const SHOPS: Record<Shop['name'], Shop> = {
  busy: { name: 'busy', friends: 20_000, follows: 300, carts: 200, purchases: 100 },
  quiet: { name: 'quiet', friends: 2_000, follows: 20, carts: 10, purchases: 5 },
};
const CART_BOUGHT_BEFORE_COUPON = 1 / 3;

// Events by hour of the day in Tokyo: quiet at night, peaks at noon and in the evening.
const HOURLY_WEIGHT = [2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 4, 5, 7, 6, 5, 5, 5, 6, 7, 8, 9, 9, 7, 4];
const WEIGHT_SUM = HOURLY_WEIGHT.reduce((a, b) => a + b, 0);

export type ShopEventType = 'follow' | 'cart_abandoned' | 'purchased';

export interface ShopEvent {
  n: number;
  type: ShopEventType;
  at: number;
}

/** Poisson counts (Knuth; the means here are small). */
function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) k++;
  return k;
}

/** The shop's events over [from, to) in time order: per Tokyo hour a Poisson count, at uniform moments. */
export function shopEvents(rng: Rng, shop: Shop, from: number, to: number): ShopEvent[] {
  const events: ShopEvent[] = [];
  const perDay: [ShopEventType, number][] = [
    ['follow', shop.follows],
    ['cart_abandoned', shop.carts],
    ['purchased', shop.purchases],
  ];
  for (let hour = from; hour < to; hour += HOUR) {
    const weight = HOURLY_WEIGHT[localParts(hour, 'Asia/Tokyo').hour]! / WEIGHT_SUM;
    for (const [type, daily] of perDay) {
      const count = poisson(rng, daily * weight);
      for (let i = 0; i < count; i++) events.push({ n: 0, type, at: hour + rng.next() * HOUR });
    }
  }
  events.sort((a, b) => a.at - b.at);
  events.forEach((e, i) => (e.n = i));
  return events;
}

const SCENARIO_OF: Record<ShopEventType, string> = {
  follow: 'friend-welcome',
  cart_abandoned: 'cart-abandoned',
  purchased: 'after-purchase',
};
const TRIGGER_OF: Record<ShopEventType, Record<string, unknown>> = {
  follow: {},
  cart_abandoned: { productName: 'sneakers', total: 5000 },
  purchased: { orderId: 'o-1', total: 5000 },
};

/** A message step's moment; reply: the LINE webhook sends it as the reply to the follow (docs/reply.md). */
export interface StepMoment {
  stepId: string;
  at: number;
  reply?: boolean;
}

/**
 * The moments of the message steps an event's scenario gives it, as the planner dates them
 * (send windows applied; branches take their default, waits their timeout: the user who does
 * not answer). A cart bought before its coupon does not get the coupon.
 */
export function stepMoments(rng: Rng, event: ShopEvent, scenarios: Map<string, CompiledScenario>): StepMoment[] {
  const compiled = scenarios.get(SCENARIO_OF[event.type]);
  if (!compiled) throw new Error(`the sample scenario ${SCENARIO_OF[event.type]} is missing from scenarios/`);
  const bought = event.type === 'cart_abandoned' && rng.chance(CART_BOUGHT_BEFORE_COUPON);
  return timeline(compiled, { enteredAt: event.at, trigger: TRIGGER_OF[event.type] })
    .filter((e) => e.type === 'message' && !e.note?.startsWith('skipped'))
    .filter((e) => !(bought && e.stepId === 'coupon'))
    .map((e) => {
      const step = compiled.steps.get(e.stepId)?.step;
      const reply = step?.type === 'message' && step.reply === true && e.at === event.at;
      return reply ? { stepId: e.stepId, at: e.at, reply } : { stepId: e.stepId, at: e.at };
    });
}
