// The job summary of a tick, and whether a person must act. Counts, step ids and LINE's
// error messages only: never a user id, a member id, a token or a message text.
import { describeRunMode, type Counted, type RunMode, type TickCounts, type TickResult } from '../engine/index.js';
import { mdText } from '../contract/markdown-text.js';
import { storageLines } from './storage.js';
import { dispatcherProblem, dispatcherSection } from './dispatcher-section.js';
import { latenessAlertReason, latenessSection } from './lateness.js';

const COLUMNS: [Counted, string][] = [
  ['enrolled', 'enrolled'],
  ['planned', 'would send'],
  ['sent', 'sent'],
  ['acted', 'actions'],
  ['capped', 'capped (deferred)'],
  ['deferred', 'deferred'],
  ['skipped', 'left before sending'],
  ['expired', 'expired'],
  ['failed', 'failed'],
  ['exited', 'exited'],
  ['finished', 'finished'],
  ['conversions', 'conversions'],
];

export interface SummaryContext {
  now: number;
  store: string;
  sender: string;
  mode: RunMode;
  /** The schedule's interval, to say how late this tick is. */
  intervalMinutes: number;
  /** A day's p95 lateness (seconds) past which a person is asked to look (lateness-alert-seconds); none: no alert. */
  latenessAlertSeconds?: number | undefined;
}

/** What needsAPerson also weighs: the lateness threshold, and the tick's moment. */
export interface AttentionOptions {
  latenessAlertSeconds?: number | undefined;
  now: number;
}

export function needsAPerson(result: TickResult, options?: AttentionOptions): string[] {
  const reasons: string[] = [];
  const dispatcher = dispatcherProblem(result.dispatcher);
  if (dispatcher) reasons.push(`${dispatcher}. Delivery goes on with the schedule.`);
  const late = options && latenessAlertReason(result.lateness ?? [], options.latenessAlertSeconds, options.now);
  if (late) reasons.push(late);
  if (result.stoppedBy === 'unauthorized')
    reasons.push('LINE refused the channel access token (401/403): check the LINE_CHANNEL_ACCESS_TOKEN secret.');
  const monthly = monthlyLimitReason(result);
  if (monthly) reasons.push(monthly);
  if (result.attention.needsReview > 0)
    reasons.push(
      `${result.attention.needsReview} outbox batch(es) need review: LINE may or may not have accepted them and the 24-hour retry-key window has passed, so they are not resent automatically. See outbox_batches where status = 'needs_review'.`,
    );
  for (const m of result.missingScenarios ?? []) {
    if (m.unregistered) {
      // The file is there, but the store refused its definition (issue 27).
      reasons.push(
        `scenario ${m.id} could not be registered: ${m.unregistered}. Its ${m.usersInside} user(s) are held where they are ` +
          '(nothing is sent to them and nobody leaves) and events are taken in by its last registered definition; the other scenarios ran.',
      );
      continue;
    }
    reasons.push(
      `scenario file missing: ${m.id}: ${m.usersInside} users inside. They are held (nothing is sent to them and ` +
        'nobody leaves) and events are still taken in for them by its last definition. Restore the file; to end the ' +
        'scenario, restore it with "status": "retired" (its users leave at the next tick), after which the file may be removed.',
    );
  }
  const failed = result.counts.total('failed');
  if (failed > 0) {
    const requests = result.counts.failures.reduce((sum, f) => sum + f.batches, 0);
    const refused = requests ? ` (${requests} LINE request(s) refused)` : '';
    reasons.push(`${failed} recipient(s) did not get their step${refused}: see the reasons below.`);
  }
  return reasons;
}

/**
 * LINE's monthly limit reached, however it was learned: its 429 "monthly limit", or its
 * quota endpoints before sending (the month used up, or too little left for a batch).
 */
function monthlyLimitReason(result: TickResult): string | undefined {
  const c = result.counts;
  if (result.stoppedBy !== 'monthly_limit' && !c.heldBackByMonthlyLimit) return undefined;
  const used =
    c.quota && c.quota.limit !== null ? ` (${c.quota.usedBefore + c.total('sent')} of ${c.quota.limit} used)` : '';
  const held = c.heldBackByMonthlyLimit ? `; ${c.heldBackByMonthlyLimit} recipient(s) held in this tick` : '';
  return (
    `the LINE monthly message limit is reached${used}${held}: the rest stays pending until the quota allows ` +
    '(upgrade the plan in LINE Official Account Manager, or wait for the next month).'
  );
}

export function tickSummary(result: TickResult, ctx: SummaryContext): string {
  const out: string[] = [
    `# LINE step delivery: tick in run mode ${ctx.mode}`,
    '',
    `At ${new Date(ctx.now).toISOString()} · ${describeRunMode(ctx.mode)} · state: ${mdText(ctx.store)} · LINE: ${mdText(ctx.sender)}`,
    ...lateness(result.previousRunAt, ctx, Boolean(result.dispatcher?.settings)),
    '',
    attentionSection(needsAPerson(result, { latenessAlertSeconds: ctx.latenessAlertSeconds, now: ctx.now })),
    ...intake(result),
    ...sendingLimits(result.counts),
    ...storageLines(result),
    ...latenessSection(result.lateness ?? []),
    ...dispatcherSection(result.dispatcher),
    ...actionsLine(result.counts),
    ...perStepTable(result.counts),
    ...reasonTable('Failures', result.counts.failures),
    ...reasonTable('Not sent: the user left before sending', result.counts.skips),
  ];
  return `${out.join('\n')}\n`;
}

/**
 * How long since the previous tick, how late by the schedule, and missed ticks. With the
 * dispatcher set up, runs start when work is due: a long gap is nothing due, not a miss.
 */
function lateness(previousRunAt: number | null, ctx: SummaryContext, dispatched: boolean): string[] {
  if (previousRunAt === null) return [];
  const gapMinutes = (ctx.now - previousRunAt) / 60_000;
  if (dispatched)
    return ['', `Previous tick ${gapMinutes.toFixed(1)} min ago (started by the dispatcher when work is due).`];
  const late = gapMinutes - ctx.intervalMinutes;
  const out = [
    '',
    `Previous tick ${gapMinutes.toFixed(1)} min ago (schedule: every ${ctx.intervalMinutes} min${late > 1 ? `; ${late.toFixed(1)} min late` : ''}).`,
  ];
  if (gapMinutes > 3 * ctx.intervalMinutes)
    out.push(
      '',
      `⚠️ About ${Math.floor(gapMinutes / ctx.intervalMinutes) - 1} scheduled tick(s) were missed: GitHub delays or drops scheduled runs under load. Steps that fell due were caught up now, inside their send windows.`,
    );
  return out;
}

function attentionSection(reasons: string[]): string {
  return reasons.length
    ? `## ❗ Needs a person\n\n${reasons.map((r) => `- ${mdText(r)}`).join('\n')}`
    : '✅ Nothing needs a person.';
}

/** Events taken in, set aside and waiting, with the reasons events were set aside. */
function intake(result: TickResult): string[] {
  const c = result.counts;
  const out: string[] = [];
  if (result.ingestHeld) out.push('', `ℹ️ No events taken in: ${mdText(result.ingestHeld)}.`);
  out.push(
    '',
    `Events taken in: ${c.eventsTaken} · set aside (malformed): ${c.eventsSetAside} · waiting for a member link: ${c.eventsWaitingLink}`,
  );
  if (result.attention.setAsideRecent)
    out.push(
      `Set-aside events in the last 7 days: ${result.attention.setAsideRecent} (events.status_reason says why).`,
    );
  if (c.setAsideReasons.size) {
    // Each one stopped only itself: the other events of its page were taken in.
    out.push('', '## Events set aside in this tick', '', '| reason | count |', '|---|---:|');
    for (const [reason, n] of [...c.setAsideReasons].sort(([, a], [, b]) => b - a))
      out.push(`| ${mdText(reason)} | ${n} |`);
  }
  return out;
}

/** The month's quota, and what the quota reserve or max-messages held back. */
function sendingLimits(c: TickCounts): string[] {
  const out: string[] = [];
  if (c.quota) {
    const sentNow = c.total('sent');
    out.push(
      '',
      `Quota: ${c.quota.limit === null ? 'no monthly limit' : `${c.quota.usedBefore + sentNow} of ${c.quota.limit} used this month (${c.quota.limit - c.quota.usedBefore - sentNow} left)`}.`,
    );
  }
  if (c.quotaUnread)
    out.push(
      '',
      `⚠️ LINE's quota could not be read (${mdText(c.quotaUnread)}): neither the monthly limit nor the quota reserve was checked before sending in this tick.`,
    );
  if (c.heldBackByMonthlyLimit)
    out.push('', `Held back by LINE's monthly limit: ${c.heldBackByMonthlyLimit} recipient(s), left pending.`);
  if (c.heldBackByQuota)
    out.push('', `Held back by the quota reserve: ${c.heldBackByQuota} recipient(s), left pending.`);
  if (c.heldBackByMaxMessages) out.push('', 'Stopped planning at max-messages: the rest is left for the next tick.');
  return out;
}

function actionsLine(c: TickCounts): string[] {
  const a = c.actions;
  if (a.tagUsers + a.attributeUsers + a.richMenuPlanned + a.richMenuLinks + a.richMenuUnlinks === 0) return [];
  return [
    '',
    `Actions: tags changed: ${a.tagUsers} user(s) · attributes changed: ${a.attributeUsers} user(s) · rich menu changes planned: ${a.richMenuPlanned} · rich menu links: ${a.richMenuLinks} · unlinks: ${a.richMenuUnlinks}.`,
  ];
}

/** One row per scenario and step that counted anything, sorted by ids. */
function perStepTable(c: TickCounts): string[] {
  const rows: string[] = [];
  for (const [scenarioId, steps] of [...c.byScenario].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [stepId, row] of [...steps].sort(([a], [b]) => a.localeCompare(b))) {
      if (COLUMNS.every(([k]) => !row[k])) continue;
      rows.push(
        `| ${mdText(scenarioId)} | ${mdText(stepId) || '—'} | ${COLUMNS.map(([k]) => row[k] ?? '').join(' | ')} |`,
      );
    }
  }
  if (!rows.length) return ['', '## Per scenario and step', '', 'Nothing was due.'];
  return [
    '',
    '## Per scenario and step',
    '',
    `| scenario | step | ${COLUMNS.map(([, h]) => h).join(' | ')} |`,
    `|---|---|${COLUMNS.map(() => '---:').join('|')}|`,
    ...rows,
  ];
}

/**
 * Failures or skips by scenario, step and reason (none: no table), in recipients; failures
 * also in LINE requests (a refused multicast is one request for up to 500 recipients).
 */
function reasonTable(
  title: string,
  rows: readonly { scenarioId: string; stepId: string; count: number; batches?: number; reason: string }[],
): string[] {
  if (!rows.length) return [];
  const requests = rows.some((f) => f.batches !== undefined);
  const cells = (f: (typeof rows)[number]) =>
    [mdText(f.scenarioId), mdText(f.stepId), String(f.count), ...(requests ? [String(f.batches || '—')] : [])].join(
      ' | ',
    );
  return [
    '',
    `## ${title}`,
    '',
    `| scenario | step | recipients |${requests ? ' LINE requests |' : ''} reason |`,
    `|---|---|---:|${requests ? '---:|' : ''}---|`,
    ...rows.map((f) => `| ${cells(f)} | ${mdText(f.reason)} |`),
  ];
}
