// When a step is due: its wait (after/before a reference moment, optionally at a local
// time of day) and the send window. Pure functions of instants in milliseconds.
import type { Duration, Scenario, SendWindow, Step, Timing } from '../scenario/schema.js';
import { DATE_EXAMPLE, parseTriggerDate } from '../time/dates.js';
import { DAY, HOUR, MINUTE, addLocalDays, atLocalTime, localParts, localToInstant, parseHhMm } from '../time/zoned.js';
import { readOwnPath } from './paths.js';

export interface TimingContext {
  /** The moment of the previous step (the entry, for the first step). */
  previousAt: number;
  enteredAt: number;
  /** The trigger event's properties, for "from": "trigger.<date>". */
  trigger: Record<string, unknown>;
  tz: string;
}

/**
 * The moment, and for a step counted back from a date ("before"), that date: such a step
 * never goes out at or after it (a day-before reminder is pointless once the visit began).
 */
export type MomentResult = { at: number; countedBackFrom?: number } | { error: string };

export function durationMs(d: Duration | undefined): number {
  return d ? (d.days ?? 0) * DAY + (d.hours ?? 0) * HOUR + (d.minutes ?? 0) * MINUTE : 0;
}

function shift(reference: number, d: Duration | undefined, sign: 1 | -1, tz: string): number {
  const days = d?.days ?? 0;
  const shifted = days ? addLocalDays(reference, sign * days, tz) : reference;
  return shifted + sign * ((d?.hours ?? 0) * HOUR + (d?.minutes ?? 0) * MINUTE);
}

/**
 * The step's moment before any send window. "n days later at HH:MM" is the calendar day
 * n days after the reference, at HH:MM local time; if that is before the reference (n = 0
 * and the time has passed), the next day's HH:MM. "n days before at HH:MM" is the calendar day
 * n days before the date, at HH:MM.
 */
export function stepMoment(wait: Timing | undefined, ctx: TimingContext): MomentResult {
  if (!wait) return { at: ctx.previousAt };
  const from = wait.from ?? 'previous';
  let reference: number;
  if (from === 'previous') reference = ctx.previousAt;
  else if (from === 'entry') reference = ctx.enteredAt;
  else {
    const key = from.slice('trigger.'.length);
    const value = readOwnPath(ctx.trigger, key);
    if (value === undefined || value === null || value === '') return { error: `the trigger has no date in "${key}"` };
    // A date without an offset is read in the same zone as the step's "at".
    const parsed = parseTriggerDate(value, ctx.tz);
    if ('problem' in parsed) return { error: `${from} is not a date (${parsed.problem}): ${DATE_EXAMPLE}` };
    reference = parsed.at;
  }
  if (wait.before) {
    const { before } = wait;
    const at =
      wait.at === undefined
        ? shift(reference, before, -1, ctx.tz)
        : atLocalTime(reference, -(before.days ?? 0), parseHhMm(wait.at), ctx.tz);
    return { at, countedBackFrom: reference };
  }
  const d = wait.after;
  if (wait.at === undefined) return { at: shift(reference, d, 1, ctx.tz) };
  const at = atLocalTime(reference, d?.days ?? 0, parseHhMm(wait.at), ctx.tz);
  if (at < reference) return { at: atLocalTime(reference, (d?.days ?? 0) + 1, parseHhMm(wait.at), ctx.tz) };
  return { at };
}

/** The window a step sends in: its own (null: any hour), else the scenario's. Only messages send. */
export function stepWindow(scenario: Scenario, step: Step): SendWindow | null | undefined {
  return step.type === 'message' && step.sendWindow !== undefined ? step.sendWindow : scenario.sendWindow;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The first instant at or after `at` inside the send window (itself, when already inside). */
export function applyWindow(at: number, window: SendWindow | null | undefined, tz: string): number {
  if (!window) return at;
  const start = parseHhMm(window.start);
  const end = parseHhMm(window.end);
  const allowed = window.days ? new Set(window.days) : undefined;
  const p = localParts(at, tz);
  const dayOk = (weekday: number) => !allowed || allowed.has(WEEKDAYS[weekday]!);
  if (dayOk(p.weekday) && p.minuteOfDay >= start && p.minuteOfDay < end) return at;
  // Today's opening if it is still ahead, else the next allowed day's.
  for (let add = p.minuteOfDay < start ? 0 : 1; add <= 8; add++) {
    if (dayOk((p.weekday + add) % 7))
      return localToInstant(tz, p.year, p.month, p.day + add, Math.floor(start / 60), start % 60);
  }
  return at; // unreachable: a window has at least one day
}

/** Whether the instant is inside the window (a tick outside it sends nothing of that step). */
export function inWindow(at: number, window: SendWindow | null | undefined, tz: string): boolean {
  return applyWindow(at, window, tz) === at;
}
