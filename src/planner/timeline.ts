// The dated list of steps for one imagined user who enters at a given moment: what the
// PR preview shows and what the local demo prints. Branches take their default, splits
// their first arm and waits their timeout, and the alternatives are named in a note.
import type { CompiledScenario } from '../scenario/compile.js';
import { END, type Step } from '../scenario/schema.js';
import type { Message } from '../scenario/messages.js';
import { describeAction } from '../scenario/action-summary.js';
import { DAY, localParts, localToInstant } from '../time/zoned.js';
import { applyWindow, durationMs, stepMoment, stepWindow } from './timing.js';

export interface TimelineEntry {
  stepId: string;
  type: Step['type'];
  /** When it happens (messages: after the send window). */
  at: number;
  /** Local calendar days since the entry day. */
  day: number;
  label: string;
  note?: string;
}

export interface TimelineOptions {
  enteredAt: number;
  trigger?: Record<string, unknown>;
  /** Safety bound for scenarios that loop. */
  maxSteps?: number;
  /** Walk from this step (a user already inside, the forecast), its previous step at previousAt. */
  from?: { stepId: string; previousAt: number };
}

export function summarizeMessage(m: Message, max = 40): string {
  const text = m.type === 'text' ? m.text : 'altText' in m ? `[${m.type}] ${m.altText}` : `[${m.type}]`;
  return clipText(text.replace(/\s+/g, ' ').trim(), max);
}

/**
 * At most max characters, with … when cut; never inside a URL (half a URL reads as a
 * working link to a wrong page): a URL the cut would split is left out whole.
 */
export function clipText(flat: string, max: number): string {
  if (flat.length <= max) return flat;
  let cut = max - 1;
  for (const url of flat.matchAll(/https?:\/\/\S+/g)) {
    const start = url.index;
    if (start < cut && start + url[0].length > cut) cut = start;
  }
  return `${flat.slice(0, cut).trimEnd()}…`;
}

function localDayIndex(at: number, tz: string): number {
  const p = localParts(at, tz);
  return Math.round(localToInstant('UTC', p.year, p.month, p.day, 0, 0) / DAY);
}

export function timeline(compiled: CompiledScenario, options: TimelineOptions): TimelineEntry[] {
  const { scenario, timezone: tz } = compiled;
  const trigger = options.trigger ?? {};
  const entries: TimelineEntry[] = [];
  const firstDay = localDayIndex(options.enteredAt, tz);
  let previousAt = options.from?.previousAt ?? options.enteredAt;
  let id = options.from?.stepId ?? compiled.first;
  for (let n = 0; id !== END && n < (options.maxSteps ?? 50); n++) {
    const compiledStep = compiled.steps.get(id);
    if (!compiledStep) break;
    const { step } = compiledStep;
    const moment = stepMoment(step.wait, { previousAt, enteredAt: options.enteredAt, trigger, tz });
    let at = 'at' in moment ? moment.at : previousAt;
    let note = 'error' in moment ? moment.error : undefined;
    let label: string;
    let next: string;
    switch (step.type) {
      case 'message':
        at = applyWindow(at, stepWindow(scenario, step), tz);
        label = step.messages.map((m) => summarizeMessage(m)).join(' + ');
        // A step counted back from a date never goes out at or after it.
        if ('countedBackFrom' in moment && moment.countedBackFrom !== undefined && at >= moment.countedBackFrom)
          note = 'skipped: it would go out at or after the date it counts back from';
        next = compiledStep.next;
        break;
      case 'action':
        label = describeAction(step);
        next = compiledStep.next;
        break;
      case 'branch':
        label = `branch: ${step.branches.map((b, i) => `${b.name ?? `branch ${i + 1}`} → ${b.next}`).join(', ')}`;
        next = step.default ?? END;
        note = `no branch matched → ${next}`;
        break;
      case 'split':
        label = `A/B split: ${step.arms.map((a) => `${a.name} ${a.weight} → ${a.next}`).join(', ')}`;
        next = step.arms[0]!.next;
        note = `shown: arm ${step.arms[0]!.name}`;
        break;
      case 'wait':
        label = `wait up to ${formatDuration(durationMs(step.timeout))} for ${step.for.event}`;
        next = step.onTimeout;
        note = `${step.for.event} → ${compiledStep.next}; shown: no ${step.for.event}`;
        entries.push({ stepId: step.id, type: step.type, at, day: localDayIndex(at, tz) - firstDay, label, note });
        previousAt = at + durationMs(step.timeout);
        id = next;
        continue;
    }
    entries.push({
      stepId: step.id,
      type: step.type,
      at,
      day: localDayIndex(at, tz) - firstDay,
      label,
      ...(note ? { note } : {}),
    });
    previousAt = at;
    id = next;
  }
  return entries;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return 'no delay';
  const parts: string[] = [];
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  if (days) parts.push(`${days} day${days > 1 ? 's' : ''}`);
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  return parts.join(' ');
}
