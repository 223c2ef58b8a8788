// Planning what is due while sending the outbox. Due enrollments are claimed a page at a
// time (lsd_claim_due), planned (src/engine/decide/plan-page.ts) and committed with their outbox batches
// in one transaction (lsd_commit_plans); meanwhile the outbox sender (src/engine/outbox-sender.ts) sends what
// the outbox holds (this tick's batches as they are committed, and any left by an earlier
// tick), so the first goes out seconds after the start. The leases this tick holds are
// renewed while it runs, so a long tick keeps its work in flight.
import { OutboxSender, type SendStop } from './outbox-sender.js';
import { LeaseKeeper } from './lease-keeper.js';
import { planPage } from './decide/plan-page.js';
import { lanesFor, outboxPageFor, recordsInFlightFor } from './decide/lanes.js';
import { localMidnight } from './decide/frequency-cap.js';
import type { InForce, Tick } from './setup.js';
import type { DueClaim } from '../store/lane-calls.js';

/** Plans and commits every page due, sending meanwhile; what stopped the sending, if anything did. */
export async function planAndSend(tick: Tick, inForce: InForce, runId?: string): Promise<SendStop | undefined> {
  // Batches planned from here on know all this tick took in; older ones are checked before sending.
  const checkedBefore = tick.now();
  const { store, owner, leaseSeconds, now } = tick;
  const leases = new LeaseKeeper({ store, owner, leaseSeconds, now, runId }).start();
  const outbox =
    tick.options.stopAfter === 'commit'
      ? undefined
      : new OutboxSender({
          store,
          sender: tick.options.sender,
          owner,
          now,
          counts: tick.counts,
          leaseSeconds,
          leases,
          quotaReserve: tick.options.quotaReserve ?? 0,
          mergingClaimEveryMs: tick.options.mergingClaimEveryMs,
          scenarioIds: inForce.sets.claimIds,
          scenarios: inForce.sets.plannable,
          checkedBefore,
          runId,
          pageSize: outboxPageFor(store.roundTripMs),
          recordsInFlight: recordsInFlightFor(store.roundTripMs),
        });
  outbox?.plannerStarted();
  const sending = outbox?.run();
  // Awaited after planning; a failure meanwhile must not count as unhandled.
  sending?.catch(() => {});
  const planningFailed = await planInLanes(tick, inForce, leases, outbox).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  outbox?.plannerDone();
  // When planning failed, what was committed is still sent; then the tick fails.
  const stoppedBy = await (sending ?? Promise.resolve(undefined)).finally(() => leases.stop());
  if (planningFailed) throw planningFailed.error;
  return stoppedBy;
}

/**
 * Lanes: pages claimed and committed side by side over separate connections. Each lane
 * takes its own share of users (a finer shard of this tick's shard), so a user's pages
 * stay in order in one lane and the frequency cap sees every earlier page's sends.
 */
async function planInLanes(
  tick: Tick,
  inForce: InForce,
  leases: LeaseKeeper,
  outbox: OutboxSender | undefined,
): Promise<void> {
  const { store } = tick;
  const lanes =
    tick.options.lanes !== undefined
      ? Math.max(1, Math.min(8, tick.options.lanes))
      : lanesFor({ base: store.lanes, roundTripMs: store.roundTripMs, max: store.maxLanes });
  const progress = { planned: 0 };
  await Promise.all(
    Array.from({ length: lanes }, (_, lane) =>
      planLane(
        tick,
        inForce,
        { leases, outbox, progress },
        {
          shardIndex: tick.shardIndex + tick.shardCount * lane,
          shardCount: tick.shardCount * lanes,
        },
      ),
    ),
  );
}

interface LaneShared {
  leases: LeaseKeeper;
  outbox: OutboxSender | undefined;
  /** Enrollments planned by all lanes, for the progress line. */
  progress: { planned: number };
}

async function planLane(
  tick: Tick,
  inForce: InForce,
  shared: LaneShared,
  shard: { shardIndex: number; shardCount: number },
): Promise<void> {
  const { store, owner, counts, pageSize, options } = tick;
  const claimArgs = (now: number): DueClaim => {
    const cap = inForce.ctx.cap;
    return {
      now,
      owner,
      limit: pageSize,
      leaseSeconds: tick.leaseSeconds,
      ...shard,
      eventTypes: inForce.eventTypes,
      capSince: cap ? localMidnight(now, cap.timezone) : undefined,
      scenarioIds: inForce.sets.claimIds,
    };
  };
  const heldBack = () => options.maxMessages !== undefined && counts.recipientsPlanned >= options.maxMessages;
  if (heldBack()) return void (counts.heldBackByMaxMessages = true);
  let now = tick.now();
  let page = await store.claimDue(claimArgs(now));
  while (page.enrollments.length) {
    const claimedIds = page.enrollments.map((e) => e.id);
    shared.leases.holdEnrollments(claimedIds);
    const { plans, skipped, batches } = planPage(page, now, inForce.ctx);
    // The next page is claimed in the commit's call, after it (one round trip a page), unless
    // this page was the last or the message limit is reached.
    const last = page.enrollments.length < pageSize;
    const stop = !last && heldBack();
    const nextNow = tick.now();
    const { committed, next } = await store.commitAndClaim(
      { now, owner, plans, skipped, batches },
      last || stop ? undefined : claimArgs(nextNow),
    );
    shared.leases.releaseEnrollments(claimedIds);
    shared.outbox?.planned(batches.length);
    counts.lostLeases += committed.lost;
    shared.progress.planned += page.enrollments.length;
    options.progress?.('enrollments planned', shared.progress.planned);
    if (stop) counts.heldBackByMaxMessages = true;
    if (!next) return;
    [page, now] = [next, nextNow];
  }
}
