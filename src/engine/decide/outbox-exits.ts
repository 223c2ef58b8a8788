// What is sent obeys what is known when it is sent: before a claimed batch goes out, the
// scenario's exit rules are applied to what happened to its recipients since they entered.
// The store already dropped those whose enrollment records an exit or who unfollowed; this
// covers an exit event that no enrollment records, as when the batch holds the scenario's
// last step (the enrollment finished when it was planned) or the event is not taken in yet.
import type { CompiledScenario } from '../../scenario/compile.js';
import { matchesFilter } from '../../planner/conditions.js';
import { concernsKey } from '../../planner/keys.js';
import type { ClaimedBatch, ExitEvent, RecipientDrop } from '../../domain.js';

/** Scenario id to the event types its exit rules name (only scenarios that have any). */
export function exitTypesOf(scenarios: Iterable<CompiledScenario>): Record<string, string[]> {
  const types: Record<string, string[]> = {};
  for (const c of scenarios) {
    const names = [...new Set((c.scenario.exit ?? []).map((rule) => rule.event))];
    if (names.length) types[c.id] = names;
  }
  return types;
}

/** The recipients an exit rule of their batch's scenario removes, with the reason. */
export function recipientsWhoLeft(
  events: readonly ExitEvent[],
  batches: readonly ClaimedBatch[],
  scenarios: ReadonlyMap<string, CompiledScenario>,
): RecipientDrop[] {
  const scenarioOf = new Map(batches.map((b) => [b.id, scenarios.get(b.scenarioId)]));
  const drops = new Map<string, RecipientDrop>();
  for (const e of events) {
    const key = `${e.batchId}\u0000${e.userId}`;
    if (drops.has(key)) continue;
    const scenario = scenarioOf.get(e.batchId)?.scenario;
    // With an enrollment key, the cancellation of another booking is not this one's exit.
    const rule = scenario?.exit?.find(
      (r) =>
        r.event === e.type &&
        matchesFilter(e.properties, r.where) &&
        concernsKey(scenario.entry.key, e.enrollmentKey, e.properties),
    );
    if (rule) drops.set(key, { batchId: e.batchId, userId: e.userId, reason: `exited before sending: ${rule.event}` });
  }
  return [...drops.values()];
}
