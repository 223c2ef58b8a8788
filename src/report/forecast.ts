// The forecast of messages: for each scenario, the messages LINE will count in the next 30
// days (one per recipient of each push or multicast; a reply is free), from who is inside
// now and from who will enter at the last 30 days' rate. Dates come from the planner's own
// timeline (src/planner/timeline.ts: the step moments and send windows the tick uses), so
// the forecast and the sends cannot disagree on timing. Pure: the reads are in
// src/commands/forecast.ts.
import type { CompiledScenario } from '../scenario/compile.js';
import { timeline } from '../planner/timeline.js';

export const FORECAST_DAYS = 30;
const DAY = 86_400_000;
/** Entry moments sampled over the window for new entrants (every 12 hours). */
const ENTRY_SAMPLES = 60;

/** An active enrollment, as the forecast reads it. */
export interface InsideEnrollment {
  scenarioId: string;
  stepId: string;
  enteredAt: number;
  previousAt: number;
  trigger: Record<string, unknown>;
}

export interface ScenarioForecast {
  id: string;
  name: string;
  /** paused or retired: nothing is sent (counted as 0). */
  status: 'active' | 'paused' | 'retired';
  /** Users inside now. */
  inside: number;
  /** Messages to them in the window. */
  fromInside: number;
  /** Entries in the last 30 days, and so a day. */
  entriesLast30Days: number;
  entriesPerDay: number;
  /** Messages to new entrants in the window, at that rate. */
  fromNew: number;
  total: number;
}

export interface Forecast {
  now: number;
  days: number;
  scenarios: ScenarioForecast[];
  total: number;
  /** LINE's quota this month when a token was given; the error when LINE could not be asked. */
  quota?: { limit: number | null; used: number } | { error: string } | undefined;
}

/** The definitions, and what the database says: who is inside, entries in the last 30 days. */
export interface ForecastInput {
  now: number;
  scenarios: CompiledScenario[];
  inside: Iterable<InsideEnrollment>;
  entriesLast30Days: Record<string, number>;
}

/** Counted messages of one walk from a step (or the entry) that fall before `end`. */
function countedMessages(
  compiled: CompiledScenario,
  walk: { enteredAt: number; trigger: Record<string, unknown>; from?: { stepId: string; previousAt: number } },
  end: number,
  newEntrant: boolean,
): number {
  let n = 0;
  for (const entry of timeline(compiled, walk)) {
    if (entry.type !== 'message' || entry.at >= end || entry.note?.startsWith('skipped')) continue;
    // A first step sent as the reply to the follow is free (the webhook's welcome).
    const step = compiled.steps.get(entry.stepId)?.step as { reply?: unknown } | undefined;
    if (newEntrant && step?.reply === true) continue;
    n++;
  }
  return n;
}

/** Messages a day's entrants get within the window, summed over entry moments spread across it. */
function newEntrantMessages(compiled: CompiledScenario, now: number, end: number, perDay: number): number {
  if (perDay <= 0) return 0;
  let messages = 0;
  for (let k = 0; k < ENTRY_SAMPLES; k++) {
    const enteredAt = now + ((k + 0.5) * (end - now)) / ENTRY_SAMPLES;
    messages += countedMessages(compiled, { enteredAt, trigger: {} }, end, true);
  }
  return (messages * perDay * ((end - now) / DAY)) / ENTRY_SAMPLES;
}

/** The forecast of each scenario for the next `days` days (default 30). */
export function forecastMessages(input: ForecastInput, days = FORECAST_DAYS): Forecast {
  const end = input.now + days * DAY;
  const byId = new Map(input.scenarios.map((c) => [c.id, c]));
  const inside = new Map<string, { users: number; messages: number }>();
  for (const e of input.inside) {
    const compiled = byId.get(e.scenarioId);
    // A step the definition no longer has ends the enrollment at the next tick: nothing more is sent.
    if (!compiled?.steps.has(e.stepId)) continue;
    const row = inside.get(e.scenarioId) ?? { users: 0, messages: 0 };
    row.users++;
    row.messages += countedMessages(
      compiled,
      { enteredAt: e.enteredAt, trigger: e.trigger, from: { stepId: e.stepId, previousAt: e.previousAt } },
      end,
      false,
    );
    inside.set(e.scenarioId, row);
  }
  const scenarios = input.scenarios.map((c): ScenarioForecast => {
    const entries = input.entriesLast30Days[c.id] ?? 0;
    const perDay = entries / FORECAST_DAYS;
    const mine = inside.get(c.id) ?? { users: 0, messages: 0 };
    const status = c.scenario.status ?? 'active';
    // Paused: no one enters and nothing is sent; retired: everyone leaves at the next tick.
    const sends = status === 'active';
    const fromInside = sends ? mine.messages : 0;
    const fromNew = sends ? Math.round(newEntrantMessages(c, input.now, end, perDay)) : 0;
    return {
      id: c.id,
      name: c.scenario.name ?? c.id,
      status,
      inside: mine.users,
      fromInside,
      entriesLast30Days: entries,
      entriesPerDay: perDay,
      fromNew,
      total: fromInside + fromNew,
    };
  });
  scenarios.sort((a, b) => b.total - a.total || a.id.localeCompare(b.id));
  return { now: input.now, days, scenarios, total: scenarios.reduce((s, x) => s + x.total, 0) };
}

/** Head against base: what a change adds or removes, per scenario (a new or removed scenario counts whole). */
export interface ForecastChange {
  id: string;
  base: number;
  head: number;
  change: number;
}

export function forecastChanges(base: Forecast, head: Forecast): ForecastChange[] {
  const ids = new Set([...base.scenarios.map((s) => s.id), ...head.scenarios.map((s) => s.id)]);
  const total = (f: Forecast, id: string) => f.scenarios.find((s) => s.id === id)?.total ?? 0;
  return [...ids]
    .map((id) => ({ id, base: total(base, id), head: total(head, id), change: total(head, id) - total(base, id) }))
    .sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || a.id.localeCompare(b.id));
}
