// The database's size against its plan, and what retention removed: a few lines for the
// job summary and the report. Sizes and counts only.
import type { TickResult } from '../engine/index.js';

export interface StorageFigures {
  bytes: number;
  growthPerMonth: number | null;
  plan: { name: string; bytes: number };
  monthsLeft: number | null;
}

/** 123.4 MB, 1.20 GB. */
export function formatBytes(bytes: number): string {
  const mb = bytes / 1024 ** 2;
  return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GB` : `${mb.toFixed(1)} MB`;
}

/** One sentence: the size, the share of the plan, the growth a month and the months left. */
export function storageSentence(s: StorageFigures): string {
  const share = ((s.bytes / s.plan.bytes) * 100).toFixed(0);
  const growth =
    s.growthPerMonth === null
      ? 'growth a month: known after a day of samples'
      : `growth ${s.growthPerMonth >= 0 ? '+' : '−'}${formatBytes(Math.abs(s.growthPerMonth))} a month`;
  const left =
    s.monthsLeft === null
      ? s.growthPerMonth === null
        ? ''
        : ' (not growing)'
      : `, about ${s.monthsLeft >= 10 ? s.monthsLeft.toFixed(0) : s.monthsLeft.toFixed(1)} months left on the plan`;
  return `Database: ${formatBytes(s.bytes)} of ${formatBytes(s.plan.bytes)} (${s.plan.name} plan, ${share}%) · ${growth}${left}.`;
}

/** A warning when the plan is nearly full: Supabase turns a full database read-only, and every tick then fails. */
export function storageWarning(s: StorageFigures): string | undefined {
  const nearlyFull = s.bytes >= 0.9 * s.plan.bytes;
  const soon = s.monthsLeft !== null && s.monthsLeft < 2;
  if (!nearlyFull && !soon) return undefined;
  return (
    `⚠️ The database ${nearlyFull ? 'is nearly full' : 'fills its plan within two months at this growth'}: a full ` +
    'Supabase database turns read-only and every tick then fails. Lower retention-days, or move to a larger plan ' +
    '(and set database-plan).'
  );
}

/** The job summary's lines: the size against the plan, and what retention removed this tick. */
export function storageLines(result: TickResult): string[] {
  const out: string[] = [];
  if (result.storage) {
    out.push('', storageSentence(result.storage));
    const warning = storageWarning(result.storage);
    if (warning) out.push('', warning);
  }
  const r = result.retention;
  if (r) {
    const n = r.removed;
    const total = n.events + n.batches + n.enrollments + n.runs + n.dispatches + n.replies;
    out.push(
      '',
      r.busy
        ? `Retention (${r.retentionDays} days): another tick was removing old rows; this one left it to that one.`
        : `Retention (${r.retentionDays} days): removed ${total ? `${n.events} events, ${n.batches} outbox batches, ${n.enrollments} ended enrollments with ${n.deliveries} deliveries, ${n.runs} runs, ${n.dispatches} dispatches, ${n.replies} replies` : 'nothing (nothing older)'}${r.more ? '; more remain, the next ticks continue' : ''}.`,
    );
  }
  if (result.retentionError)
    out.push('', `⚠️ Retention did not run this tick (${result.retentionError}); the sends stand.`);
  return out;
}
