// The PR check's job summary: validation result, what the PR changes, and for each
// scenario a flowchart and a timeline.
import type { LoadResult } from '../scenario/loader.js';
import { formatIssue } from '../scenario/issues.js';
import { timeline } from '../planner/timeline.js';
import { DAY, formatHhMm, localParts, localToInstant } from '../time/zoned.js';
import type { ScenarioChange } from './diff.js';
import { describeTrigger, scenarioFlowchart } from './mermaid.js';
import type { CompiledScenario } from '../scenario/compile.js';
import { mdCode, mdFence, mdText } from '../contract/markdown-text.js';

/** Sample trigger: every date the steps count from lies a week after entry, at 15:00. */
export function sampleTrigger(compiled: CompiledScenario, enteredAt: number): Record<string, unknown> {
  const trigger: Record<string, unknown> = {};
  const p = localParts(enteredAt + 7 * DAY, compiled.timezone);
  for (const step of compiled.scenario.steps) {
    const from = step.wait?.from;
    if (from?.startsWith('trigger.'))
      trigger[from.slice(8)] = new Date(localToInstant(compiled.timezone, p.year, p.month, p.day, 15, 0)).toISOString();
  }
  return trigger;
}

export function timelineTable(compiled: CompiledScenario, enteredAt: number): string {
  const trigger = sampleTrigger(compiled, enteredAt);
  const rows = timeline(compiled, { enteredAt, trigger }).map(
    (e) =>
      `| day ${e.day} ${formatHhMm(localParts(e.at, compiled.timezone).minuteOfDay)} | ${mdText(e.stepId)} | ${mdText(e.label)} | ${mdText(e.note ?? '')} |`,
  );
  const assumed = Object.keys(trigger).length
    ? `\n\nAssuming ${Object.keys(trigger)
        .map((k) => mdText(`trigger.${k} = day 7 15:00`))
        .join(', ')}.`
    : '';
  return `Entering on day 0 at ${formatHhMm(localParts(enteredAt, compiled.timezone).minuteOfDay)} (${mdText(compiled.timezone)}):\n\n| when | step | what | note |\n|---|---|---|---|\n${rows.join('\n')}${assumed}`;
}

export interface PreviewInput {
  result: LoadResult;
  changes?: ScenarioChange[];
  /** Moment the imagined user enters (default: a Monday at 14:00 in each scenario's zone). */
  enteredAt?: (compiled: CompiledScenario) => number;
}

const mondayAfternoon = (c: CompiledScenario) => localToInstant(c.timezone, 2026, 1, 5, 14, 0);

export function previewMarkdown({ result, changes, enteredAt = mondayAfternoon }: PreviewInput): string {
  const out: string[] = ['# Scenarios'];
  if (result.issues.length) {
    out.push(
      `❌ ${result.issues.length} problem(s) in ${new Set(result.issues.map((i) => i.file)).size} file(s): fix them before this can run.`,
      '',
      mdFence(result.issues.map(formatIssue).join('\n')),
    );
  } else {
    out.push(`✅ ${result.scenarios.length} scenario(s) valid.`);
  }
  if (changes) {
    out.push('', '## What this change does');
    if (!changes.length) out.push('', 'No scenario changes.');
    for (const c of changes) {
      // Each detail is Markdown made by diff.ts, its user text escaped there.
      out.push('', `### ${c.kind}: ${mdText(c.id)}`, '', ...c.details.map((d) => `- ${d}`));
    }
  }
  for (const { compiled, file } of result.scenarios) {
    const s = compiled.scenario;
    const window = s.sendWindow
      ? ` · sends ${mdText(`${s.sendWindow.start}-${s.sendWindow.end}${s.sendWindow.days ? ` on ${s.sendWindow.days.join(', ')}` : ''}`)}`
      : '';
    out.push(
      '',
      `## ${mdText(s.name ?? s.id)} (${mdCode(s.id)} v${s.version}${s.status === 'paused' ? ', paused' : ''})`,
      '',
      `File ${mdCode(file)} · enters on ${mdText(describeTrigger(s.entry.trigger))}${s.entry.audience ? ' (with an audience condition)' : ''} · re-entry: ${mdText(s.reentry ?? 'once')}${window}`,
      '',
      '```mermaid',
      scenarioFlowchart(s),
      '```',
      '',
      timelineTable(compiled, enteredAt(compiled)),
    );
  }
  return `${out.join('\n')}\n`;
}
