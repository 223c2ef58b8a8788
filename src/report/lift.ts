// What a scenario earns, from its holdout group (docs/measuring.md): the conversion rate of
// the treated and of the held out, and the lift between them with a 95% interval by the
// two-proportion normal approximation (Wald, unpooled). Below the size where that
// approximation holds, no figure is given: "not enough data yet".
import type { HoldoutCounts } from '../store/report-data.js';

/** Each group needs at least this many users (one user then moves its rate by 3.3 points at most)... */
export const MIN_GROUP_USERS = 30;
/** ...and this many who converted and who did not: the textbook condition for the normal approximation (n·p ≥ 5, n·(1-p) ≥ 5). */
export const MIN_GROUP_OUTCOMES = 5;
/** The two-sided 95% quantile of the standard normal distribution. */
const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

export interface Lift {
  treatedRate: number | null;
  heldOutRate: number | null;
  /** Why the lift is not given (too few users or conversions in a group), or undefined when it is. */
  notEnough?: string;
  /** Treated rate minus held-out rate (a share, 0.05 is 5 points), with its 95% interval. */
  absolute?: number;
  absoluteInterval?: Interval;
  /** Absolute lift over the held-out rate (0.5 is +50%), with its 95% interval (delta method on the log of the ratio). */
  relative?: number;
  relativeInterval?: Interval;
}

function shortOf(label: string, users: number, converted: number): string | undefined {
  if (users < MIN_GROUP_USERS) return `${label}: ${users} of ${MIN_GROUP_USERS} users`;
  if (converted < MIN_GROUP_OUTCOMES) return `${label}: ${converted} of ${MIN_GROUP_OUTCOMES} conversions`;
  if (users - converted < MIN_GROUP_OUTCOMES)
    return `${label}: ${users - converted} of ${MIN_GROUP_OUTCOMES} users who did not convert`;
  return undefined;
}

export function liftOf(c: HoldoutCounts): Lift {
  const treatedRate = c.treated > 0 ? c.treatedConverted / c.treated : null;
  const heldOutRate = c.heldOut > 0 ? c.heldOutConverted / c.heldOut : null;
  const short = [shortOf('treated', c.treated, c.treatedConverted), shortOf('held out', c.heldOut, c.heldOutConverted)]
    .filter((s): s is string => s !== undefined)
    .join('; ');
  if (short || treatedRate === null || heldOutRate === null) return { treatedRate, heldOutRate, notEnough: short };
  const absolute = treatedRate - heldOutRate;
  const se = Math.sqrt((treatedRate * (1 - treatedRate)) / c.treated + (heldOutRate * (1 - heldOutRate)) / c.heldOut);
  const logRatio = Math.log(treatedRate / heldOutRate);
  const seLog = Math.sqrt((1 - treatedRate) / c.treatedConverted + (1 - heldOutRate) / c.heldOutConverted);
  return {
    treatedRate,
    heldOutRate,
    absolute,
    absoluteInterval: { low: absolute - Z95 * se, high: absolute + Z95 * se },
    relative: treatedRate / heldOutRate - 1,
    relativeInterval: { low: Math.exp(logRatio - Z95 * seLog) - 1, high: Math.exp(logRatio + Z95 * seLog) - 1 },
  };
}
