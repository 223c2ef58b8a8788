// Taking in new events: a page at a time claimed (lsd_ingest_claim), routed in order
// (src/engine/decide/route-page.ts), and committed with what it changes (lsd_ingest_commit: new
// enrollments, exits, wake-ups, re-keyed triggers, events set aside) in one transaction.
// A what-if reads the same pages without claiming them (src/engine/what-if.ts).
import type { IngestPage } from '../domain.js';
import type { TickCounts } from './counts.js';
import { RoutingMemory } from './decide/route-page.js';
import type { InForce, Tick } from './setup.js';

export async function takeInEvents(tick: Tick, inForce: InForce): Promise<void> {
  if (inForce.sets.ingestHeld) return;
  const { store, owner, counts } = tick;
  const claimArgs = () => ({ now: tick.now(), owner, limit: tick.pageSize, leaseSeconds: tick.leaseSeconds });
  let page = await store.ingestClaim(claimArgs());
  for (;;) {
    countNotTaken(page, counts);
    // A page whose events were all set aside (or wait for a link) is not the last one.
    if (!page.events.length) {
      if (!page.more) return;
      page = await store.ingestClaim(claimArgs());
      continue;
    }
    // Each page starts afresh: the earlier pages are committed, so the store answers for them.
    const routed = inForce.route(page, new RoutingMemory());
    const { enroll, exit, wake, setAside, done } = routed;
    const update = [...routed.update.values()];
    // The next page is claimed in the commit's call, after it: one round trip a page.
    const { next } = await store.ingestCommitAndClaim(
      { now: tick.now(), owner, done, enroll, exit, wake, update, setAside },
      page.more ? claimArgs() : undefined,
    );
    tick.options.progress?.('events', counts.eventsTaken);
    if (!next) return;
    page = next;
  }
}

/** The events of a page that the store set aside as malformed, or that wait for a member link. */
export function countNotTaken(page: IngestPage, counts: TickCounts): void {
  for (const [reason, n] of page.setAsideReasons) counts.noteSetAside(reason, n);
  counts.eventsWaitingLink += page.waitingLink;
}
