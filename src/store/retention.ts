// Retention and storage, as the store speaks them: one page of one kind of old rows
// removed (lsd_retention), and the database's size with a sample about a month back
// (lsd_storage). What is removed and what is kept is decided in SQL
// (supabase/migrations/20261207000600_retention.sql); this names the calls.
import type { Rpc } from './rpc.js';

/** The kinds of rows retention removes, in the order a tick takes them. */
export const RETENTION_KINDS = ['events', 'batches', 'enrollments', 'runs', 'dispatches', 'replies'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

export interface RetentionPage {
  kind: RetentionKind;
  /** Rows of this kind removed (enrollments: the enrollments). */
  deleted: number;
  /** With kind enrollments: their deliveries removed with them. */
  deliveries: number;
  /** Rows looked at (kept ones included). */
  examined: number;
  /** Another page may find more. */
  more: boolean;
  /** Another tick holds retention: nothing was done. */
  busy: boolean;
}

interface RetentionRow {
  kind: RetentionKind;
  deleted: number;
  deliveries?: number;
  examined: number;
  more: boolean;
  busy?: boolean;
}

/** Removes one page (at most `limit` rows) of one kind older than `retentionDays` before `now`. */
export async function retentionPage(
  rpc: Rpc,
  args: { now: number; retentionDays: number; kind: RetentionKind; limit?: number },
): Promise<RetentionPage> {
  const r = await rpc.call<RetentionRow>('lsd_retention', {
    now: args.now,
    retention_days: args.retentionDays,
    kind: args.kind,
    ...(args.limit !== undefined ? { limit: args.limit } : {}),
  });
  return {
    kind: r.kind,
    deleted: r.deleted,
    deliveries: r.deliveries ?? 0,
    examined: r.examined,
    more: r.more,
    busy: r.busy === true,
  };
}

export interface StorageSample {
  /** pg_database_size now. */
  bytes: number;
  /** The size recorded about 30 days before (or the oldest record), and when; null on the first day. */
  then: { bytes: number; at: number } | null;
}

/** The database's size, recorded for today, and the sample to measure growth against. */
export async function storageSample(rpc: Rpc, now: number): Promise<StorageSample> {
  const r = await rpc.call<{ bytes: number | string; then_bytes: number | string | null; then_at: number | null }>(
    'lsd_storage',
    { now },
  );
  return {
    bytes: Number(r.bytes),
    then: r.then_bytes === null || r.then_at === null ? null : { bytes: Number(r.then_bytes), at: r.then_at },
  };
}

/** The size and the sample to measure growth against, without recording a sample (the report writes nothing). */
export async function storageRead(rpc: Rpc, now: number): Promise<StorageSample> {
  const r = await rpc.call<{ bytes: number | string; then_bytes: number | string | null; then_at: number | null }>(
    'lsd_storage_read',
    { now },
  );
  return {
    bytes: Number(r.bytes),
    then: r.then_bytes === null || r.then_at === null ? null : { bytes: Number(r.then_bytes), at: r.then_at },
  };
}
