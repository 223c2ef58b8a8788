// The frequency cap: at most N sends a user a day (in the cap's zone), decided per page
// from what the user was already sent today and what this tick has planned so far.
import type { CompiledScenario } from '../../scenario/compile.js';
import type { Decision, Plan } from '../../planner/types.js';
import { atLocalTime } from '../../time/zoned.js';

export interface FrequencyCap {
  perDay: number;
  timezone: string;
}

export function localMidnight(now: number, tz: string): number {
  return atLocalTime(now, 0, 0, tz);
}

export function nextLocalMidnight(now: number, tz: string): number {
  return atLocalTime(now, 1, 0, tz);
}

/**
 * Which plans of one page the cap defers: per user, sends are allowed up to the cap minus
 * what the user was already sent today (committed, earlier pages included), higher-priority
 * scenarios first, then earlier moments.
 */
export function applyFrequencyCap(
  plans: { enrollment: { id: string; userId: string }; compiled: CompiledScenario; plan: Plan }[],
  cap: FrequencyCap,
  sentInTick: Map<string, number>,
  sentBefore: Map<string, number>,
): Set<string> {
  const deferred = new Set<string>();
  const withSends = plans
    .map((p) => ({
      ...p,
      sends: p.plan.decisions.filter((d): d is Extract<Decision, { kind: 'send' }> => d.kind === 'send'),
    }))
    .filter((p) => p.sends.length > 0)
    .sort((a, b) => b.compiled.priority - a.compiled.priority || a.sends[0]!.dueAt - b.sends[0]!.dueAt);
  for (const p of withSends) {
    const user = p.enrollment.userId;
    const used = (sentBefore.get(user) ?? 0) + (sentInTick.get(user) ?? 0);
    if (used + p.sends.length > cap.perDay) deferred.add(p.enrollment.id);
    else sentInTick.set(user, (sentInTick.get(user) ?? 0) + p.sends.length);
  }
  return deferred;
}
