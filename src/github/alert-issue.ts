// One open issue while the scheduled delivery needs a person: opened by the first tick that
// needs one, updated by each later tick that still does, closed with a comment by the
// first tick that needs no one. Found again by its label and a hidden marker. It says what
// to do with counts, scenario and step ids and the run's link: never a LINE user id or a
// message text (issues of a public repository are public, like its logs).
import { statusOf, whoAmI, writtenBy, type GitHubClient, type RunTarget } from './client.js';
import { mdFence, mdText } from '../contract/markdown-text.js';

export const ALERT_LABEL = 'line-step-delivery';

export interface AlertFailure {
  scenarioId: string;
  stepId: string;
  /** Recipients who did not get the step. */
  count: number;
  /** LINE requests refused (a multicast is one for up to 500 recipients); 0 when nothing went to LINE. */
  batches?: number | undefined;
  reason: string;
}

/** What a tick that needs a person found. */
export interface AlertReport {
  /** What a person must do, one sentence each (the job's failure reasons). */
  reasons: string[];
  failures: AlertFailure[];
}

export interface AlertTarget extends RunTarget {
  /** A matrix of jobs shares the users: each shard keeps its own issue (a healthy shard must not close another's). */
  shard?: { index: number; count: number } | undefined;
}

export type AlertOutcome = { kind: 'opened' | 'updated' | 'closed'; number: number } | { kind: 'none' };

export interface SyncOptions {
  /** When the tick ran (epoch ms). */
  at: number;
  /** A tick limited to part of the work (one scenario, a message cap) may open or update the issue, not close it. */
  mayClose: boolean;
}

function shardText(target: AlertTarget): string {
  return target.shard && target.shard.count > 1 ? ` shard ${target.shard.index} of ${target.shard.count}` : '';
}

export function alertMarker(target: AlertTarget): string {
  return `<!-- line-step-delivery:alert${shardText(target)} -->`;
}

export function alertTitle(target: AlertTarget): string {
  return `LINE step delivery needs a person${shardText(target) ? ` (${shardText(target).trim()})` : ''}`;
}

const LINE_USER_ID = /U[0-9a-f]{32}/g;

/** A reason may quote an error from elsewhere (a database, say): LINE user ids are blanked out. */
function redact(text: string): string {
  return text.replace(LINE_USER_ID, 'U…');
}

/** A table cell of outside text (a reason quotes LINE or a database): escaped, one line, at most 500 characters. */
function cell(text: string): string {
  return mdText(redact(text).slice(0, 500));
}

/** A reason's first line as the item; the rest (a list of scenario problems, say) in a block under it. */
function reasonItem(reason: string): string {
  const [first = '', ...rest] = redact(reason)
    .slice(0, 4000)
    .split(/\r\n|\r|\n/);
  return rest.length ? `- ${mdText(first)}\n\n${mdFence(rest.join('\n'), { indent: '  ' })}` : `- ${mdText(first)}`;
}

export function alertIssueBody(report: AlertReport, target: AlertTarget, at: number): string {
  const out = [
    alertMarker(target),
    `The scheduled delivery${shardText(target)} needs a person. Each tick that still needs one updates this issue; ` +
      'the first tick that needs no one closes it.',
    '',
    `**Last tick:** ${new Date(at).toISOString()} · [the run and its job summary](${target.runUrl})`,
    '',
    '## What needs doing',
    '',
    ...report.reasons.map(reasonItem),
  ];
  if (report.failures.length) {
    out.push(
      '',
      '## Failed messages',
      '',
      '| scenario | step | recipients | LINE requests | reason |',
      '|---|---|---:|---:|---|',
    );
    for (const f of report.failures) {
      out.push(
        `| ${cell(f.scenarioId)} | ${cell(f.stepId)} | ${f.count} | ${f.batches ? f.batches : '—'} | ${cell(f.reason)} |`,
      );
    }
  }
  out.push(
    '',
    '<sub>Opened and closed by line-step-delivery (input `alert-issue`). Counts and ids only: no LINE user id or message text.</sub>',
  );
  return `${out.join('\n')}\n`;
}

/** Opens, updates or closes the alert issue to match this tick: `report` undefined means the tick needed no one. */
export async function syncAlertIssue(
  client: GitHubClient,
  target: AlertTarget,
  report: AlertReport | undefined,
  options: SyncOptions,
): Promise<AlertOutcome> {
  const { owner, repo } = target;
  const marker = alertMarker(target);
  // The label narrows the search; the marker tells this action's issue from a person's with the same label.
  const { data: labelled } = await client.rest.issues.listForRepo({
    owner,
    repo,
    labels: ALERT_LABEL,
    state: 'open',
    per_page: 100,
  });
  // Anyone may open an issue with the label and copy the marker: only this action's own account's counts.
  const marked = labelled.filter((i) => !i.pull_request && i.body?.includes(marker));
  const me = marked.length ? await whoAmI(client) : undefined;
  const open = me && marked.find((i) => writtenBy(i.user, me));
  if (!report) {
    if (!open || !options.mayClose) return { kind: 'none' };
    await client.rest.issues.createComment({
      owner,
      repo,
      issue_number: open.number,
      body: `✅ The tick at ${new Date(options.at).toISOString()} needed no one: closing. [The run](${target.runUrl}).`,
    });
    const closing = { state: 'closed', state_reason: 'completed' } as const;
    await client.rest.issues.update({ owner, repo, issue_number: open.number, ...closing });
    return { kind: 'closed', number: open.number };
  }
  const body = alertIssueBody(report, target, options.at);
  if (open) {
    await client.rest.issues.update({ owner, repo, issue_number: open.number, body });
    return { kind: 'updated', number: open.number };
  }
  await ensureLabel(client, target);
  const title = alertTitle(target);
  const { data } = await client.rest.issues.create({ owner, repo, title, body, labels: [ALERT_LABEL] });
  return { kind: 'opened', number: data.number };
}

async function ensureLabel(client: GitHubClient, { owner, repo }: RunTarget): Promise<void> {
  try {
    const description = 'LINE step delivery needs a person (opened and closed by the action)';
    await client.rest.issues.createLabel({ owner, repo, name: ALERT_LABEL, color: 'd93f0b', description });
  } catch (error) {
    if (statusOf(error) !== 422) throw error; // 422: the label exists already
  }
}
