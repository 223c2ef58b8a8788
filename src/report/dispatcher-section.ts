// What the job summary, the alert issue and `dispatcher status` say of the dispatcher
// (issue 28): whether it works, and if not why (its last answer); this month's runs and
// billed minutes against the budget; whether the schedule (the safety net) had to act.
// Settings, times, counts and GitHub's answers only: never a token.
import type { DispatcherState } from '../store/dispatcher.js';
import { mdText } from '../contract/markdown-text.js';

/** The cron job decides every minute: a decision older than this means it does not run. */
export const SILENT_AFTER_MS = 5 * 60_000;
/** A start asked for this long ago with no answer recorded: the call did not finish. */
const UNANSWERED_AFTER_MS = 2 * 60_000;

const at = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Why a dispatcher that is set up is not working, or undefined (working, switched off on
 * purpose, or never set up: the schedule alone starts runs then, as before).
 */
export function dispatcherProblem(state: DispatcherState | undefined): string | undefined {
  const s = state?.settings;
  if (!state || !s || !s.enabled) return undefined;
  const [last] = state.lastStarts;
  if (last && ['refused', 'failed', 'rate_limited'].includes(last.status)) {
    return `the dispatcher's last start (${at(last.decidedAt)}) was not made: ${last.answer ?? last.status}`;
  }
  if (last?.status === 'requested' && state.now - last.decidedAt > UNANSWERED_AFTER_MS) {
    return `the dispatcher's last start (${at(last.decidedAt)}) has no answer from GitHub recorded: the dispatch function stopped before it; see its logs`;
  }
  if (s.lastDecidedAt === null || state.now - s.lastDecidedAt > SILENT_AFTER_MS) {
    const since = s.lastDecidedAt === null ? 'never decided' : `not decided since ${at(s.lastDecidedAt)}`;
    return `the dispatcher has ${since}: check that pg_cron is enabled and the job line-step-delivery-dispatch runs (select * from cron.job_run_details order by start_time desc limit 5)`;
  }
  return undefined;
}

/** This month's runs and billed minutes, against the budget when there is one. */
export function monthLine(state: DispatcherState): string {
  const m = state.month;
  const budget = m.budgetMinutes === null ? '' : ` of a budget of ${m.budgetMinutes}`;
  return `This month: ${m.runs} run(s), ${m.billedMinutes} billed Actions minute(s)${budget}.`;
}

/** The safety net's line, when the schedule found work the dispatcher had not started a run for. */
function safetyNetLine(state: DispatcherState): string | undefined {
  const n = state.safetyNet;
  if (!state.settings || n.acted === 0) return undefined;
  return `The schedule (the safety net) found work ${n.acted} time(s) this month in ${n.runs} scheduled run(s): the dispatcher had not started a run for it.`;
}

/** The job summary's short section. */
export function dispatcherSection(state: DispatcherState | undefined): string[] {
  if (!state) return [];
  const s = state.settings;
  if (!s) {
    return [
      '',
      'ℹ️ Dispatcher: not set up, so runs start on the schedule alone (GitHub runs schedules late, and bills each run). See docs/dispatcher.md.',
    ];
  }
  const problem = dispatcherProblem(state);
  const head = !s.enabled
    ? 'ℹ️ Dispatcher: switched off; runs start on the schedule alone.'
    : problem
      ? `⚠️ Dispatcher not working: ${mdText(problem)}. Delivery goes on with the schedule.`
      : `✅ Dispatcher working: it starts ${mdText(s.workflow)} on ${mdText(s.ref)} when work is due (last decision ${at(s.lastDecidedAt!)}).`;
  const net = safetyNetLine(state);
  return ['', '### Dispatcher', '', head, '', monthLine(state), ...(net ? ['', mdText(net)] : [])];
}

/** `dispatcher status`: the configuration (never the token), the last starts, the month. */
export function dispatcherStatusText(state: DispatcherState): string {
  const s = state.settings;
  if (!s)
    return 'The dispatcher is not set up: line-step-delivery dispatcher setup --owner O --repo R --workflow W.yml';
  const budget = s.publicRepository ? 'none (public repository)' : (s.budgetMinutes ?? 'none');
  const lines = [
    `Dispatcher: ${s.enabled ? 'on' : 'switched off'}`,
    `  starts      ${s.owner}/${s.repo}, workflow ${s.workflow} on ${s.ref}, inputs ${JSON.stringify(s.inputs)}`,
    `  min gap     ${s.minGapSeconds} s`,
    `  budget      ${budget} billed minutes a month`,
    `  decided     ${s.lastDecidedAt === null ? 'never' : at(s.lastDecidedAt)}${s.lastWaitReason ? ` (waiting: ${s.lastWaitReason})` : ''}`,
  ];
  const problem = dispatcherProblem(state);
  lines.push(problem ? `  NOT WORKING ${problem}` : `  working     ${s.enabled ? 'yes' : 'no (switched off)'}`);
  lines.push(
    '',
    monthLine(state),
    safetyNetLine(state) ?? 'The schedule (the safety net) has not had to act this month.',
  );
  lines.push('', state.lastStarts.length ? 'Last starts (newest first):' : 'No start yet.');
  for (const d of state.lastStarts) {
    const answer = d.status === 'requested' ? 'no answer yet' : `${d.status}${d.httpStatus ? ` ${d.httpStatus}` : ''}`;
    lines.push(`  ${at(d.decidedAt)}  ${d.origin.padEnd(12)} ${answer.padEnd(16)} ${d.reasons.join('; ')}`);
    if (d.answer && d.status !== 'started') lines.push(`      ${d.answer}`);
  }
  return lines.join('\n');
}
