// doctor's events link: when the last event of each source arrived (the LINE webhook, the
// shop, a CSV import), events received in the last day and set aside with their reasons, and
// events waiting to be taken in while no tick runs. Counts and times only, never an id.
import type { DoctorFacts } from './database.js';
import { fix, note, notChecked, ok, type Check } from './checks.js';

/** The sources the project's receivers write, with what a missing one means. */
const SOURCES: { source: string; name: string; none: string }[] = [
  {
    source: 'line-webhook',
    name: 'LINE webhook',
    none: 'no event yet: add the account as a friend from a phone (or block and unblock it) and run doctor again',
  },
  {
    source: 'shop-events',
    name: 'shop',
    none: 'no event yet (fine until your shop sends them to the shop-events function)',
  },
  { source: 'csv-import', name: 'CSV import', none: 'none imported (fine unless you import lists)' },
];

/** "3 min ago", "2 h ago", "4 days ago": how long before now. */
export function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** A reason as SQL wrote it names fields and kinds, never values; a LINE user id is masked all the same. */
const masked = (reason: string) => reason.replace(/U[0-9a-f]{32}/g, 'U…');

export function eventChecks(facts: DoctorFacts | undefined): Check[] {
  if (!facts) return [notChecked('events', 'sources', 'the database could not be read (see database above)')];
  const checks: Check[] = [];
  const seen = new Map(facts.sources.map((s) => [s.source, s]));
  for (const { source, name, none } of SOURCES) {
    const s = seen.get(source);
    checks.push(
      s
        ? ok(
            'events',
            name,
            `last event ${ago(Number(s.last_at), facts.now)} (${new Date(Number(s.last_at)).toISOString()})`,
          )
        : note('events', name, `${none} (looked at the newest ${facts.recent_window.toLocaleString('en-US')} events)`),
    );
  }
  const others = facts.sources.filter((s) => !SOURCES.some((k) => k.source === s.source));
  if (others.length)
    checks.push(
      ok('events', 'other sources', others.map((s) => `${s.source} ${ago(Number(s.last_at), facts.now)}`).join(', ')),
    );
  const setAside = facts.set_aside.reduce((n, r) => n + Number(r.count), 0);
  checks.push(
    setAside
      ? note(
          'events',
          'set aside (last day)',
          `${setAside} event(s) were malformed and set aside: ${facts.set_aside.map((r) => `${Number(r.count)} × ${masked(r.reason)}`).join('; ')}. Fix their sender; events.status_reason says why each`,
        )
      : ok('events', 'set aside (last day)', 'none'),
  );
  checks.push(backlogCheck(facts));
  return checks;
}

/** Events waiting to be taken in for more than an hour mean no tick takes them: the workflow does not run. */
function backlogCheck(facts: DoctorFacts): Check {
  const { count, oldest_at } = facts.backlog;
  const n = Number(count) > 10_000 ? 'more than 10,000' : String(count);
  if (!Number(count) || oldest_at === null) return ok('events', 'waiting to be taken in', 'none');
  const last = facts.last_run
    ? `the last tick started ${ago(Number(facts.last_run.started_at), facts.now)}`
    : 'no tick has run yet';
  if (facts.now - Number(oldest_at) > 3_600_000)
    return fix(
      'events',
      'waiting to be taken in',
      `${n} event(s), the oldest received ${ago(Number(oldest_at), facts.now)}, and ${last}: check that the step-delivery workflow runs (Actions tab; a scheduled workflow is disabled after 60 days without activity in a public repository)`,
    );
  return ok('events', 'waiting to be taken in', `${n} event(s), for the next tick (${last})`);
}
