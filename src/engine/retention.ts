// The tick's last phase: old rows removed in bounded pages, and the database's size
// against its plan. Each kind (events, batches, enrollments with their deliveries, runs)
// gets at most MAX_PAGES calls of at most PAGE_ROWS rows a tick: a tick's retention is
// bounded whatever the backlog, and a backlog (the first tick after an upgrade) is worked
// off over the following ticks. What is kept is decided in SQL (lsd_retention).
import type { Rpc } from '../store/rpc.js';
import { RETENTION_KINDS, retentionPage, storageSample, type RetentionKind } from '../store/retention.js';

/** Default retention period, in days. */
export const DEFAULT_RETENTION_DAYS = 90;
/** The shortest: the 30-day report reads a month back. */
export const MIN_RETENTION_DAYS = 31;
/** Rows a call removes at most. */
export const PAGE_ROWS = 2000;
/** Calls per kind per tick at most. */
export const MAX_PAGES = 5;

/** Supabase's database size included in each plan. */
export const DATABASE_PLANS = { free: 500 * 1024 ** 2, pro: 8 * 1024 ** 3 } as const;

export interface DatabasePlan {
  name: string;
  bytes: number;
}

export interface RetentionResult {
  retentionDays: number;
  /** Rows removed this tick, by kind; deliveries went with their enrollments. */
  removed: Record<RetentionKind | 'deliveries', number>;
  /** Some kind still had old rows when its pages ran out: the next tick continues. */
  more: boolean;
  /** Another tick was removing rows: this one left it to that one. */
  busy: boolean;
}

export interface StorageOutlook {
  bytes: number;
  /** Bytes a month (30 days), from the sample about a month back; null before a day of samples. */
  growthPerMonth: number | null;
  plan: DatabasePlan;
  /** Months until the plan's size at this growth; null when not growing or not known. */
  monthsLeft: number | null;
}

/** Reads the retention-days setting: a whole number of days, at least 31. */
export function parseRetentionDays(raw: string | undefined, name = 'retention-days'): number {
  const text = (raw ?? '').trim();
  if (text === '') return DEFAULT_RETENTION_DAYS;
  const days = Number(text);
  if (!Number.isInteger(days) || days < MIN_RETENTION_DAYS)
    throw new Error(
      `${name}: "${text}" is not a retention period: give a whole number of days, at least ${MIN_RETENTION_DAYS} ` +
        `(the 30-day report reads a month back), e.g. retention-days: ${DEFAULT_RETENTION_DAYS}. Rows are never kept "forever": ` +
        `a larger number keeps them longer.`,
    );
  return days;
}

/** Reads the database-plan setting: free (500 MB), pro (8 GB), or a size such as 2GB or 750MB. */
export function parseDatabasePlan(raw: string | undefined, name = 'database-plan'): DatabasePlan {
  const text = (raw ?? '').trim().toLowerCase();
  if (text === '' || text === 'free') return { name: 'Free', bytes: DATABASE_PLANS.free };
  if (text === 'pro') return { name: 'Pro', bytes: DATABASE_PLANS.pro };
  const m = /^(\d+(?:\.\d+)?)\s*(mb|gb)$/.exec(text);
  if (!m || Number(m[1]) <= 0)
    throw new Error(`${name}: "${raw}" is not a plan: give free (500 MB), pro (8 GB) or a size such as 2GB or 750MB.`);
  const unit = m[2] === 'gb' ? 1024 ** 3 : 1024 ** 2;
  return { name: `${m[1]} ${m[2]!.toUpperCase()}`, bytes: Math.round(Number(m[1]) * unit) };
}

/** Removes old rows, a bounded number of pages of each kind. */
export async function keepWithinRetention(rpc: Rpc, now: number, retentionDays: number): Promise<RetentionResult> {
  const removed = { events: 0, batches: 0, enrollments: 0, runs: 0, dispatches: 0, replies: 0, deliveries: 0 };
  let more = false;
  for (const kind of RETENTION_KINDS) {
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await retentionPage(rpc, { now, retentionDays, kind, limit: PAGE_ROWS });
      if (r.busy) return { retentionDays, removed, more: true, busy: true };
      removed[kind] += r.deleted;
      removed.deliveries += r.deliveries;
      if (!r.more) break;
      if (page === MAX_PAGES - 1) more = true;
    }
  }
  return { retentionDays, removed, more, busy: false };
}

/** The database's size, its growth a month and the months left on the plan. */
export async function storageOutlook(rpc: Rpc, now: number, plan: DatabasePlan): Promise<StorageOutlook> {
  const sample = await storageSample(rpc, now);
  return outlook(sample.bytes, sample.then, now, plan);
}

/** Growth a month from two samples at least a day apart, and the months left at that pace. */
export function outlook(
  bytes: number,
  then: { bytes: number; at: number } | null,
  now: number,
  plan: DatabasePlan,
): StorageOutlook {
  const days = then ? (now - then.at) / 86_400_000 : 0;
  const growthPerMonth = then && days >= 1 ? ((bytes - then.bytes) / days) * 30 : null;
  const monthsLeft =
    growthPerMonth !== null && growthPerMonth > 0 ? Math.max(0, (plan.bytes - bytes) / growthPerMonth) : null;
  return { bytes, growthPerMonth, plan, monthsLeft };
}

/** What the tick's last phase adds to its result. */
export interface RetentionPhase {
  retention?: RetentionResult | undefined;
  storage?: StorageOutlook | undefined;
  /** Why retention or the size could not be had this tick (the tick's work stands). */
  retentionError?: string | undefined;
}

/**
 * The phase as a tick runs it: not in a run limited to one scenario (it touches that
 * scenario only) and never failing the tick whose sends are already recorded.
 */
export async function retentionPhase(
  rpc: Rpc,
  now: number,
  settings: {
    retentionDays?: number | undefined;
    databasePlan?: DatabasePlan | undefined;
    onlyScenario?: string | undefined;
  },
): Promise<RetentionPhase> {
  if (settings.onlyScenario !== undefined) return {};
  try {
    const retention = await keepWithinRetention(rpc, now, settings.retentionDays ?? DEFAULT_RETENTION_DAYS);
    const storage = await storageOutlook(rpc, now, settings.databasePlan ?? parseDatabasePlan('free'));
    return { retention, storage };
  } catch (error) {
    return { retentionError: error instanceof Error ? error.message : String(error) };
  }
}
