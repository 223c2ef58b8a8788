// inspect: one user's story, for the team's own terminal (never the action: its logs and
// summaries are public, and this output names the user and quotes their events). Each
// enrollment: how it began (the trigger event), every step sent (when, which batch, what
// LINE answered), skipped or expired (why), where it waits now and until when, how it
// ended or converted, and the events that drove that.
import type { Store } from '../store/store.js';
import { formatLocal, isValidTimeZone } from '../time/zoned.js';
import { ReportInputError, REPORT_ZONE } from '../report/period-report.js';
import type { InspectDelivery, InspectEnrollment, InspectEvent, InspectStory } from '../domain.js';

export interface InspectOptions {
  /** Opens the store (DATABASE_URL, Supabase's secrets, or the local PGlite). */
  openStore: () => Promise<Store>;
  /** A LINE user id (U + 32 hex digits) or the shop's member id. */
  user: string;
  timezone?: string | undefined;
  eventsLimit?: number | undefined;
}

/** The user's story as text, or a ReportInputError when no such user is known. */
export async function inspectCommand(options: InspectOptions): Promise<string> {
  const tz = options.timezone ?? REPORT_ZONE;
  if (!isValidTimeZone(tz)) throw new ReportInputError(`--timezone "${tz}" is not an IANA time zone, like Asia/Tokyo`);
  const who = options.user.trim();
  if (!who) throw new ReportInputError('line-step-delivery inspect: whom? Give a LINE user id or a member id.');
  const store = await options.openStore();
  try {
    const answer = await store.inspect(who, options.eventsLimit ?? 200);
    if (!answer.found) {
      const waiting = answer.waitingLink
        ? ` (${answer.waitingLink} event(s) wait for this member id to be linked to a LINE user)`
        : '';
      const shape = /^U[0-9a-f]{32}$/.test(who) ? 'LINE user id' : 'member id';
      throw new ReportInputError(
        `no user with the ${shape} "${who}" in this database${waiting}: give a LINE user id (U and 32 hex digits) or a linked member id`,
      );
    }
    return storyText(answer, tz);
  } finally {
    await store.close();
  }
}

const when = (ms: number | null | undefined, tz: string) =>
  ms === null || ms === undefined ? '—' : formatLocal(Number(ms), tz);

function eventLine(ev: InspectEvent, tz: string): string {
  const props = Object.keys(ev.properties ?? {}).length ? ` ${JSON.stringify(ev.properties)}` : '';
  const status = ev.status === 'done' ? '' : ` [${ev.status}${ev.statusReason ? `: ${ev.statusReason}` : ''}]`;
  return `#${ev.id} ${when(ev.occurredAt, tz)} ${ev.type} (${ev.source})${status}${props}`;
}

/** The event that made an enrollment end: the first of the rule's type after the entry, up to the end. */
function drivingEvent(e: InspectEnrollment, events: InspectEvent[]): InspectEvent | undefined {
  const reason = e.exitReason ?? '';
  const type = reason === 'unfollowed' ? 'unfollow' : /^(?:exit|goal): ([a-z][a-z0-9_]*)$/.exec(reason)?.[1];
  if (!type) return undefined;
  const until = e.endedAt ?? Infinity;
  return events.find((ev) => ev.type === type && ev.occurredAt > e.enteredAt && ev.occurredAt <= until);
}

function deliveryLine(d: InspectDelivery, tz: string): string {
  const step = d.stepId.padEnd(18);
  if (d.kind === 'expire') return `${step} expired (due ${when(d.dueAt, tz)}): ${d.reason ?? 'no reason recorded'}`;
  if (d.kind === 'fail')
    return `${step} failed before sending (due ${when(d.dueAt, tz)}): ${d.reason ?? 'no reason recorded'}`;
  // An action step with no rich menu change: done in the commit, nothing went to LINE.
  if (d.kind === 'act' && !d.batchId) return `${step} acted (due ${when(d.dueAt, tz)}): tags and attributes changed`;
  const b = d.batch;
  const batch = b
    ? `batch ${d.batchId} (${b.kind} to ${b.recipients}, ${b.status}, ${b.attempts} attempt(s)`
    : `batch ${d.batchId ?? '—'} (`;
  const line = b?.lineRequestId ? `, LINE request ${b.lineRequestId}` : '';
  const error = b?.error ? `, LINE said ${JSON.stringify(b.error)}` : '';
  switch (d.status) {
    case 'sent':
      return `${step} sent ${when(d.sentAt, tz)} (due ${when(d.dueAt, tz)}) · ${batch}${line})`;
    case 'pending':
      return `${step} pending since ${when(d.createdAt, tz)} (due ${when(d.dueAt, tz)}) · ${batch}${line}${error})`;
    case 'skipped':
      return `${step} not sent: ${d.reason ?? 'skipped'} · ${batch})`;
    case 'failed':
      return `${step} failed: LINE refused it · ${batch}${error})`;
    default:
      return `${step} ${d.status}${d.reason ? `: ${d.reason}` : ''} · ${batch}${line}${error})`;
  }
}

function enrollmentBlock(
  e: InspectEnrollment,
  deliveries: InspectDelivery[],
  events: InspectEvent[],
  tz: string,
): string[] {
  const byId = new Map(events.map((ev) => [ev.id, ev]));
  const head =
    e.status === 'active'
      ? e.waitingFor
        ? `active, at "${e.stepId}": waiting for ${e.waitingFor} until ${when(e.dueAt, tz)}`
        : `active, next: "${e.stepId}" ${e.dueNever ? 'when the scenario is resumed (paused)' : `at ${when(e.dueAt, tz)}`}`
      : e.status === 'finished'
        ? `finished ${when(e.endedAt, tz)}`
        : `left ${when(e.endedAt, tz)} at "${e.stepId}": ${e.exitReason ?? 'no reason recorded'}`;
  const out = [`${e.scenarioId} · ${head}`];
  const trigger = e.triggerEventId ? byId.get(e.triggerEventId) : undefined;
  out.push(
    `  entered ${when(e.enteredAt, tz)}${e.triggerEventId ? ` by event ${trigger ? eventLine(trigger, tz) : `#${e.triggerEventId} (not among the events shown)`}` : ''}`,
  );
  for (const d of deliveries.filter((x) => x.enrollmentId === e.id)) out.push(`  ${deliveryLine(d, tz)}`);
  if (e.convertedAt !== null) {
    const goal = events.find((ev) => ev.occurredAt === e.convertedAt);
    out.push(`  goal reached ${when(e.convertedAt, tz)}${goal ? ` by event ${eventLine(goal, tz)}` : ''}`);
  }
  if (e.status === 'exited') {
    const driver = drivingEvent(e, events);
    if (driver) out.push(`  left because of event ${eventLine(driver, tz)}`);
  }
  return out;
}

/** The story as lines of text, times in `tz`. */
export function storyText(a: InspectStory, tz: string): string {
  const u = a.user!;
  const events = a.events ?? [];
  const follow =
    u.following === false
      ? `blocked the account ${when(u.unfollowedAt, tz)}`
      : `following${u.followedAt ? ` since ${when(u.followedAt, tz)}` : ''}`;
  const out = [
    `User ${u.userId}${u.memberId ? ` (member ${u.memberId})` : ''} · ${follow}${u.followRoute ? ` · route ${u.followRoute}` : ''}`,
    `Times in ${tz}.`,
  ];
  if (Object.keys(u.attributes).length) out.push(`Attributes: ${JSON.stringify(u.attributes)}`);
  if (Object.keys(u.answers).length) out.push(`Answers: ${JSON.stringify(u.answers)}`);
  const enrollments = a.enrollments ?? [];
  out.push('', enrollments.length ? `Enrollments (${enrollments.length}):` : 'No enrollments.');
  for (const e of enrollments) out.push('', ...enrollmentBlock(e, a.deliveries ?? [], events, tz));
  const total = a.eventsTotal ?? events.length;
  out.push('', `Events (${events.length === total ? total : `the latest ${events.length} of ${total}`}):`);
  for (const ev of events) out.push(`  ${eventLine(ev, tz)}`);
  return `${out.join('\n')}\n`;
}
