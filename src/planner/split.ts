// The deterministic A/B split: the same user in the same split always lands in the same
// arm, and arms fill in proportion to their weights.
import type { SplitStep } from '../scenario/schema.js';

/** cyrb53: a fast 53-bit string hash with good mixing (public domain). */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A number in [0, 1) fixed for this user, scenario, step and salt. */
export function splitPoint(userId: string, scenarioId: string, step: SplitStep): number {
  return hash53(`${scenarioId}\u0000${step.id}\u0000${step.salt ?? ''}\u0000${userId}`) / 2 ** 53;
}

export function chooseArm(userId: string, scenarioId: string, step: SplitStep): SplitStep['arms'][number] {
  const total = step.arms.reduce((sum, arm) => sum + arm.weight, 0);
  let point = splitPoint(userId, scenarioId, step) * total;
  for (const arm of step.arms) {
    point -= arm.weight;
    if (point < 0) return arm;
  }
  return step.arms[step.arms.length - 1]!;
}
