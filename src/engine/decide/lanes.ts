// How many pages a tick plans side by side. Each page waits for two round trips to the
// database (its claim and its commit) beside its own work there; with the database next door
// the adapter's own count keeps the server busy, and with it across an ocean (100-150 ms from
// a GitHub runner to Tokyo) a lane spends most of its time waiting, so more lanes fill the
// wait. Bounded by the connections the adapter may open.

/** A page's work in the database and the planner on this kind of machine (ms); what a wait is compared with. */
export const PAGE_WORK_MS = 60;

export interface LaneBudget {
  /** The adapter's count for a database next door. */
  base: number;
  /** The fastest call seen so far (ms): a round trip and the least work. Unknown: the base. */
  roundTripMs: number | undefined;
  /** The most lanes the adapter's connections allow. */
  max: number;
}

export function lanesFor({ base, roundTripMs, max }: LaneBudget): number {
  const wait = Math.max(0, roundTripMs ?? 0);
  const lanes = Math.round(base * (1 + (2 * wait) / PAGE_WORK_MS));
  return Math.max(1, Math.min(max, lanes));
}

/** The outbox sender's page next door (batches a claim takes). */
export const OUTBOX_PAGE = 200;

/**
 * Batches the outbox sender claims a call. Its claims go one at a time, and at LINE's 2,000
 * pushes a second a page of 200 lasts 100 ms: with the database 100 ms away the sender would
 * wait for each claim as long as it sends. A page of six round trips' pushes keeps a claim's
 * wait a third of the page's sending (600 at 100 ms), within 1,000 (a claim's bounded work).
 */
export function outboxPageFor(roundTripMs: number | undefined): number {
  return Math.min(1000, Math.max(OUTBOX_PAGE, Math.round(6 * (roundTripMs ?? 0))));
}

/**
 * Writes of LINE's answers in flight at once: one next door (a write takes a few ms), two
 * when a round trip to the database is as long as sending a page takes (20 ms or more).
 */
export function recordsInFlightFor(roundTripMs: number | undefined): number {
  return (roundTripMs ?? 0) >= 20 ? 2 : 1;
}
