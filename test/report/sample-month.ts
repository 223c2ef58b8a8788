// A month of three sample scenarios at a small shop's scale, for the HTML page's browser
// test and its screenshot: ~50 entries a day each, steps sent as multicasts, exits and
// goals, and LINE's statistics per unit and day. Deterministic: the same page each run.
import type { CompiledScenario } from '../../src/scenario/compile.js';
import type { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { jst } from './fixture.js';

/** November 2026 in Tokyo: the 1st to the 30th. */
export const MONTH = { from: jst(1), to: jst(31), label: 'November 2026' };

export async function writeSampleMonth(store: Store, db: SqlRpc, scenarios: CompiledScenario[]): Promise<void> {
  await store.registerScenarios(
    jst(1) - 86_400_000,
    scenarios.map((c) => ({ id: c.id, hash: c.hash, version: c.scenario.version, definition: c.scenario })),
  );
  for (const [i, c] of scenarios.entries()) {
    const steps = c.scenario.steps.filter((s) => s.type === 'message').map((s) => s.id);
    // A scenario with a goal ends by it; one without, by its first exit rule.
    const leaving = c.scenario.goal
      ? `goal: ${c.scenario.goal.event}`
      : `exit: ${c.scenario.exit?.[0]?.event ?? 'purchased'}`;
    const converts = Boolean(c.scenario.goal);
    for (let day = 1; day <= 30; day++) {
      const entered = 120 + ((day * 13 + i * 7) % 45);
      const base = (i * 100 + day) * 1000;
      // Every 9th reaches the goal and leaves, every 11th blocks the account, every 5th finishes.
      await db.query(
        `insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key,
                                  converted_at, exit_reason, ended_at)
         select $1, 'U' || lpad(to_hex($2 + g), 32, '0'),
                case when g % 9 = 0 or g % 11 = 0 then 'exited' when g % 5 = 0 then 'finished' else 'active' end,
                case when g % 5 = 0 and g % 9 <> 0 and g % 11 <> 0 then 'end' else ($6::text[])[1 + g % cardinality($6::text[])] end,
                t, t, case when g % 5 <> 0 and g % 9 <> 0 and g % 11 <> 0 then t + interval '3 days' end, $3, 1,
                case when g % 9 = 0 and $8 then t + interval '1 day' end,
                case when g % 9 = 0 then $7 when g % 11 = 0 then 'unfollowed' end,
                case when g % 9 = 0 or g % 11 = 0 or g % 5 = 0 then t + interval '1 day' end
         from generate_series(1, $4::int) g, (select to_timestamp($5 / 1000.0) as t) x`,
        [c.id, base, c.hash, entered, jst(day, 10), steps, leaving, converts],
      );
      let reached = entered;
      for (const [k, step] of steps.entries()) {
        reached = Math.floor(reached * (k === 0 ? 0.97 : 0.78));
        if (!reached || day + k > 30) break;
        await db.query(
          `insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, status, sent_at, created_at, updated_at)
           values ($1, $2, 'multicast', '[]', array(select 'U' || lpad(to_hex($3 + g), 32, '0') from generate_series(1, $4::int) g), $5, 'sent', $6, $6, $6)`,
          [c.id, step, base, reached, c.steps.get(step)!.aggregationUnit, new Date(jst(day + k, 10, 5)).toISOString()],
        );
        const opened = Math.floor(reached * (0.55 + 0.1 * ((day + k) % 3)));
        const clicked = Math.floor(reached * (0.12 + 0.05 * (k % 3)));
        const hide = (n: number) => (n < 20 ? null : n);
        await db.query(
          `insert into line_unit_statistics (aggregation_unit, day, unique_impression, unique_click, impression, click, fetched_at)
           values ($1, to_date($2, 'YYYYMMDD'), $3, $4, $3, $4, $5)
           on conflict (aggregation_unit, day) do nothing`,
          [
            c.steps.get(step)!.aggregationUnit,
            `202611${String(day + k).padStart(2, '0')}`,
            hide(opened),
            hide(clicked),
            new Date(MONTH.to + 5 * 86_400_000).toISOString(),
          ],
        );
      }
    }
  }
}
