// One round trip a page (issue 25): a planning lane's commit of page n and its claim of page
// n+1 go in one call (lsd_commit_and_claim), as do ingest's commit and next claim
// (lsd_ingest_commit_and_claim). The claim runs after the commit in the same transaction,
// so it sees everything the commit wrote, exactly as two calls one after the other did.
import type { DuePage, IngestCommit, IngestPage, PlansCommit } from '../domain.js';
import type { Rpc } from './rpc.js';
import {
  batchDraftRow,
  exitRow,
  newEnrollmentRow,
  planRow,
  skippedStepRow,
  toDuePage,
  toIngestPage,
  triggerUpdateRow,
  type DueAnswer,
  type IngestAnswer,
} from './rows.js';

/** What a lane claims (Store.claimDue's arguments). */
export interface DueClaim {
  now: number;
  owner: string;
  limit: number;
  leaseSeconds: number;
  shardIndex: number;
  shardCount: number;
  eventTypes: string[];
  capSince?: number | undefined;
  scenarioIds?: string[] | undefined;
}

/** What ingest claims (Store.ingestClaim's arguments). */
export interface IngestClaim {
  now: number;
  owner: string;
  limit: number;
  leaseSeconds: number;
  pageBytes?: number | undefined;
}

export interface PlansCommitted {
  committed: number;
  lost: number;
  batches: number;
  acts?: number;
  actsFailed?: number;
}

export interface IngestCommitted {
  exited: number;
  enrolled: number;
  woken: number;
  updated?: number;
  done: number;
  setAside?: number;
}

export const dueClaimPayload = (a: DueClaim) => ({
  now: a.now,
  owner: a.owner,
  limit: a.limit,
  lease_seconds: a.leaseSeconds,
  shard_index: a.shardIndex,
  shard_count: a.shardCount,
  event_types: a.eventTypes,
  ...(a.capSince !== undefined ? { cap_since: a.capSince } : {}),
  ...(a.scenarioIds ? { scenario_ids: a.scenarioIds } : {}),
});

export const plansCommitPayload = (a: PlansCommit) => ({
  now: a.now,
  owner: a.owner,
  plans: a.plans.map(planRow),
  skipped: a.skipped.map(skippedStepRow),
  batches: a.batches.map(batchDraftRow),
});

export const ingestClaimPayload = (a: IngestClaim) => ({
  now: a.now,
  owner: a.owner,
  limit: a.limit,
  lease_seconds: a.leaseSeconds,
  ...(a.pageBytes !== undefined ? { page_bytes: a.pageBytes } : {}),
});

export const ingestCommitPayload = ({ setAside, update, enroll, exit, ...rest }: IngestCommit) => ({
  ...rest,
  enroll: enroll.map(newEnrollmentRow),
  exit: exit.map(exitRow),
  update: (update ?? []).map(triggerUpdateRow),
  set_aside: setAside ?? [],
});

export type PlansAnswer = { committed: number; lost: number; batches: number; acts?: number; acts_failed?: number };
export type IngestCommitAnswer = Omit<IngestCommitted, 'setAside'> & { set_aside?: number };

export const toPlansCommitted = ({ acts, acts_failed: actsFailed, ...rest }: PlansAnswer): PlansCommitted =>
  acts ? { ...rest, acts, actsFailed: actsFailed ?? 0 } : rest;

export const toIngestCommitted = ({ set_aside: aside, ...counts }: IngestCommitAnswer): IngestCommitted =>
  aside === undefined ? counts : { ...counts, setAside: aside };

/** Commits a planned page, then claims the lane's next page, in one call. */
export async function commitAndClaim(
  rpc: Rpc,
  commit: PlansCommit,
  claim: DueClaim,
): Promise<{ committed: PlansCommitted; next: DuePage | undefined }> {
  const r = await rpc.call<{ committed: PlansAnswer; claimed: DueAnswer | null }>('lsd_commit_and_claim', {
    commit: plansCommitPayload(commit),
    claim: dueClaimPayload(claim),
  });
  return { committed: toPlansCommitted(r.committed), next: r.claimed ? toDuePage(r.claimed) : undefined };
}

/** Commits a page of events, then claims the next page, in one call. */
export async function ingestCommitAndClaim(
  rpc: Rpc,
  commit: IngestCommit,
  claim: IngestClaim,
): Promise<{ committed: IngestCommitted; next: IngestPage | undefined }> {
  const r = await rpc.call<{ committed: IngestCommitAnswer; claimed: IngestAnswer | null }>(
    'lsd_ingest_commit_and_claim',
    { commit: ingestCommitPayload(commit), claim: ingestClaimPayload(claim) },
  );
  return {
    committed: toIngestCommitted(r.committed),
    next: r.claimed ? toIngestPage(r.claimed, claim.limit) : undefined,
  };
}
