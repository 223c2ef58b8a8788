// A what-if (run mode plan-only) against the real tick's planning, on the store benchmark's database
// (1,000,000 enrollments, 10,000,000 events: run `npm run bench -- store` first). 100,000
// enrollments fall due; the what-if plans them all without writing anything, then the
// real tick claims, plans and commits them (stopped before sending). Target: the what-if
// within 2 times the real planning. Run: npm run bench -- whatif [postgres://…]
import { loadScenarioDir } from '../src/scenario/loader.js';
import { openPostgres } from '../src/store/postgres.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { Store } from '../src/store/store.js';
import { NoLineSender } from '../src/line/sender.js';
import { runTick } from '../src/engine/tick.js';
import type { SqlRpc } from '../src/store/rpc.js';
import { databaseUrl, serverUrl } from './database.js';

const DUE = 100_000;

/** Back to the store benchmark's state: nothing sent, every enrollment active at its first step, due tomorrow. */
async function reset(db: SqlRpc, now: number): Promise<void> {
  await db.exec(`delete from deliveries; delete from outbox_batches; delete from runs;
    update enrollments e set status = 'active', step_id = v.definition->'steps'->0->>'id', previous_at = entered_at, wait_started_at = null, waiting_for = null,
      due_at = to_timestamp(${now / 1000}) + interval '1 day', lease_owner = null, lease_until = null, exit_reason = null, ended_at = null, converted_at = null
    from scenario_versions v where v.scenario_id = e.scenario_id and v.hash = e.scenario_hash
      and (e.status <> 'active' or e.due_at <= to_timestamp(${now / 1000}) or e.updated_at = to_timestamp(${now / 1000}));`);
}

export async function benchWhatIf(args: string[] = []): Promise<void> {
  const url = databaseUrl(serverUrl(args), 'lsd_bench');
  const db = await openPostgres(url);
  const now = Date.parse('2026-11-25T03:00:00Z'); // the store benchmark's clock
  const compiled = (await loadScenarioDir('scenarios')).scenarios.map((s) => s.compiled);
  for (const m of MIGRATIONS) await db.exec(m.sql);
  await reset(db, now);
  await db.exec(`update enrollments set due_at = to_timestamp(${now / 1000}) - interval '1 minute'
    where id in (select id from enrollments where status = 'active' order by id limit ${DUE})`);
  await db.exec('vacuum analyze enrollments');
  const store = new Store(db);

  const t0 = performance.now();
  const whatIf = await runTick({
    store,
    sender: new NoLineSender(),
    scenarios: compiled,
    now: () => now,
    mode: 'plan-only',
  });
  const whatIfMs = performance.now() - t0;
  const leased = await db.query<{ n: number }>(
    `select count(*)::int as n from enrollments where lease_owner is not null`,
  );

  const t1 = performance.now();
  const real = await runTick({
    store,
    sender: new NoLineSender(),
    scenarios: compiled,
    now: () => now,
    stopAfter: 'commit',
  });
  const realMs = performance.now() - t1;

  const s = (n: number) => `${(n / 1000).toFixed(1)} s`;
  console.log(
    `what-if over ${DUE.toLocaleString('en')} due (1M enrollments): ${s(whatIfMs)}, ${whatIf.counts.recipientsPlanned.toLocaleString('en')} sends planned, nothing written (${leased[0]!.n} leases left)`,
  );
  console.log(
    `the real tick's planning of them (claim, plan, commit; ${store.lanes} lanes): ${s(realMs)}, ${real.counts.recipientsPlanned.toLocaleString('en')} sends planned`,
  );
  console.log(`  what-if / real planning: ${(whatIfMs / realMs).toFixed(2)}× (target at most 2×)`);
  await reset(db, now);
  await db.close();
}
