// What the forecast reads (supabase/migrations/20261207000601_forecast.sql): who is inside
// now, a page at a time, and the entries of each scenario since a moment. Read only.
import type { Rpc } from './rpc.js';

export interface InsideRow {
  scenarioId: string;
  stepId: string;
  enteredAt: number;
  previousAt: number;
  trigger: Record<string, unknown>;
}

interface InsideAnswer {
  enrollments: {
    scenario_id: string;
    step_id: string;
    entered_at: number;
    previous_at: number;
    trigger: Record<string, unknown> | null;
  }[];
  next: string | null;
}

/** Every active enrollment, in pages of `limit`. */
export async function* activeEnrollments(rpc: Rpc, limit = 5000): AsyncGenerator<InsideRow[]> {
  let after: string | null = null;
  do {
    const page: InsideAnswer = await rpc.call<InsideAnswer>('lsd_forecast_inside', { after, limit });
    yield page.enrollments.map((e) => ({
      scenarioId: e.scenario_id,
      stepId: e.step_id,
      enteredAt: e.entered_at,
      previousAt: e.previous_at,
      trigger: e.trigger ?? {},
    }));
    after = page.next;
  } while (after);
}

/** Entries per scenario since `since` (epoch ms). */
export async function entriesSince(rpc: Rpc, since: number): Promise<Record<string, number>> {
  const r = await rpc.call<Record<string, number | string>>('lsd_forecast_entries', { since });
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
}

/** The definitions in force: each registered scenario's current version, as registered. */
export async function definitionsInForce(rpc: Rpc): Promise<{ id: string; definition: unknown }[]> {
  return rpc.call<{ id: string; definition: unknown }[]>('lsd_forecast_definitions', {});
}
