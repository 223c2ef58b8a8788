// Store benchmark on a real PostgreSQL server: 1,000,000 enrollments and 10,000,000
// events. Prints the database time of a tick with nothing due, the time of claiming +
// planning + committing 10,000 due enrollments (pages of 500, as the action runs), and
// EXPLAIN of the tick's queries (index use).
// Run: npm run bench -- store [postgres://... of a server where it may create a database]
import { openPostgres } from '../src/store/postgres.js';
import { databaseUrl, freshDatabase, serverUrl } from './database.js';
import { Store } from '../src/store/store.js';
import { loadScenarioDir } from '../src/scenario/loader.js';
import { runTick } from '../src/engine/tick.js';
import { NoLineSender } from '../src/line/sender.js';
import type { Rpc, SqlRpc } from '../src/store/rpc.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import type { CompiledScenario } from '../src/scenario/compile.js';

const ENROLLMENTS = 1_000_000;
const EVENTS = 10_000_000;

/** Wraps the rpc to add up the time spent in database calls. */
function timed(rpc: Rpc): Rpc & { spent: Map<string, number>; calls: Map<string, number>; reset(): void } {
  const spent = new Map<string, number>();
  const calls = new Map<string, number>();
  return {
    label: rpc.label,
    ...(rpc.lanes ? { lanes: rpc.lanes } : {}),
    spent,
    calls,
    reset: () => {
      spent.clear();
      calls.clear();
    },
    async call<T>(fn: string, payload: unknown): Promise<T> {
      const t = performance.now();
      try {
        return await rpc.call<T>(fn, payload);
      } finally {
        spent.set(fn, (spent.get(fn) ?? 0) + performance.now() - t);
        calls.set(fn, (calls.get(fn) ?? 0) + 1);
      }
    },
    close: () => rpc.close(),
  };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Brings the benchmark database's SQL up to date and undoes what the last run changed. */
export async function resetBenchDatabase(db: SqlRpc, now: number): Promise<void> {
  for (const m of MIGRATIONS) await db.exec(m.sql);
  await db.exec(`delete from deliveries; delete from outbox_batches; delete from runs;
    update enrollments e set status = 'active', step_id = v.definition->'steps'->0->>'id', previous_at = entered_at, wait_started_at = null, waiting_for = null,
      due_at = to_timestamp(${now / 1000}) + interval '1 day', lease_owner = null, lease_until = null, exit_reason = null, ended_at = null, converted_at = null
    from scenario_versions v where v.scenario_id = e.scenario_id and v.hash = e.scenario_hash and (e.status <> 'active' or e.due_at <= to_timestamp(${now / 1000}) or e.updated_at = to_timestamp(${now / 1000}));`);
  await db.exec('vacuum analyze');
}

export async function benchStore(args: string[] = []): Promise<void> {
  const reuse = args.includes('--reuse');
  const baseUrl = serverUrl(args);
  const url = databaseUrl(baseUrl, 'lsd_bench');
  const { scenarios } = await loadScenarioDir('scenarios');
  const compiled = scenarios.map((s) => s.compiled);
  const now = Date.parse('2026-11-25T03:00:00Z');
  if (reuse) {
    // The data of an earlier run: bring the SQL up to date and reset what the last run changed.
    const db = await openPostgres(url);
    await resetBenchDatabase(db, now);
    await db.close();
    return measure(url, compiled, now);
  }
  const db = await freshDatabase(baseUrl, 'lsd_bench');
  const t0 = performance.now();
  // The scenarios first, so the enrollments carry the current hashes.
  await new Store(db).registerScenarios(
    now - 90 * 86_400_000,
    compiled.map((c) => ({ id: c.id, hash: c.hash, version: c.scenario.version, definition: c.scenario })),
  );
  const arr = (f: (c: (typeof compiled)[number]) => string) => `array[${compiled.map((c) => `'${f(c)}'`).join(',')}]`;
  const k = compiled.length;
  await db.exec(`insert into line_users (line_user_id, following, attributes)
    select 'U' || lpad(to_hex(g), 32, '0'), true, jsonb_build_object('gender', case when g % 2 = 0 then 'female' else 'male' end)
    from generate_series(1, ${ENROLLMENTS}) g`);
  await db.exec(`insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key)
    select (${arr((c) => c.id)})[1 + g % ${k}], 'U' || lpad(to_hex(g), 32, '0'), (${arr((c) => c.first)})[1 + g % ${k}],
           to_timestamp(${now / 1000}) - interval '3 days', to_timestamp(${now / 1000}) - interval '3 days',
           to_timestamp(${now / 1000}) + (g % 43200) * interval '1 minute' + interval '1 minute', (${arr((c) => c.hash)})[1 + g % ${k}],
           lsd_shard_key('U' || lpad(to_hex(g), 32, '0'))
    from generate_series(1, ${ENROLLMENTS}) g`);
  console.log(
    `store: ${ENROLLMENTS.toLocaleString('en')} users and enrollments in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  const t1 = performance.now();
  for (let chunk = 0; chunk < EVENTS / 1_000_000; chunk++) {
    await db.exec(`insert into events (line_user_id, type, properties, occurred_at, source, status, processed_at)
      select 'U' || lpad(to_hex(1 + (g::bigint * 7919) % ${ENROLLMENTS}), 32, '0'), (array['purchased','cart_abandoned','follow','shipped','survey_answered'])[1 + g % 5], '{}',
             to_timestamp(${now / 1000}) - (g % 5184000) * interval '1 second', 'bench', 'done', to_timestamp(${now / 1000})
      from generate_series(${chunk * 1_000_000 + 1}, ${(chunk + 1) * 1_000_000}) g`);
    process.stdout.write(`\r  events: ${((chunk + 1) * 1_000_000).toLocaleString('en')}`);
  }
  console.log(` in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
  await db.exec('vacuum analyze');
  await db.close();
  return measure(url, compiled, now);
}

async function measure(url: string, compiled: CompiledScenario[], now: number): Promise<void> {
  const db = await openPostgres(url);
  const size = await db.query<{ s: string }>(`select pg_size_pretty(pg_database_size('lsd_bench')) as s`);
  const counts = await db.query<{ e: string; v: string }>(
    `select (select count(*) from enrollments)::text as e, (select count(*) from events)::text as v`,
  );
  console.log(
    `  database: ${Number(counts[0]?.e).toLocaleString('en')} enrollments, ${Number(counts[0]?.v).toLocaleString('en')} events, ${size[0]?.s}`,
  );

  const rpc = timed(db);
  const store = new Store(rpc);
  const sender = new NoLineSender();
  // A tick with nothing due (scenarios unchanged, no new events, nothing due, empty outbox).
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) {
    rpc.reset();
    await runTick({ store, sender, scenarios: compiled, now: () => now });
    idle.push([...rpc.spent.values()].reduce((a, b) => a + b, 0));
  }
  idle.sort((a, b) => a - b);
  console.log(
    `  tick with nothing due: ${ms(idle[10]!)} database time (median of 20; target under 50 ms); by call: ${[...rpc.spent].map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`,
  );

  // 10,000 enrollments fall due: claim, plan, commit (and send, run mode no-line). First as a tick
  // runs (two lanes on a server), then, for comparison, another 10,000 in one lane.
  const dueBatch = async (offset: number, lanes: number | undefined) => {
    await db.exec(
      `update enrollments set due_at = to_timestamp(${now / 1000}) - interval '1 minute' where id in (select id from enrollments order by id offset ${offset} limit 10000)`,
    );
    await db.exec('analyze enrollments');
    rpc.reset();
    const t2 = performance.now();
    const cpu0 = process.cpuUsage();
    const result = await runTick({ store, sender, scenarios: compiled, now: () => now, stopAfter: 'commit', lanes });
    const wall = performance.now() - t2;
    const cpu = process.cpuUsage(cpu0);
    const claimCommit = (rpc.spent.get('lsd_claim_due') ?? 0) + (rpc.spent.get('lsd_commit_plans') ?? 0);
    const n = lanes ?? store.lanes;
    console.log(
      `  10,000 due: claimed, planned and committed in ${ms(wall)} wall${lanes === undefined ? ' (target under 1 s)' : ''} in ${n} lane${n > 1 ? 's' : ''}; database ${ms(claimCommit)}${n > 1 ? ' summed over the lanes' : ''} (claim ${ms(rpc.spent.get('lsd_claim_due') ?? 0)}, commit ${ms(rpc.spent.get('lsd_commit_plans') ?? 0)}); this process ${ms((cpu.user + cpu.system) / 1000)} of CPU; ${result.counts.recipientsPlanned} sends planned`,
    );
  };
  await dueBatch(0, undefined);
  rpc.reset();
  const t3 = performance.now();
  const sent = await runTick({ store, sender, scenarios: compiled, now: () => now });
  console.log(
    `  then sending the outbox (run mode no-line): ${sent.counts.total('sent').toLocaleString('en')} recipients in ${ms(performance.now() - t3)}; by call: ${[...rpc.spent].map(([k, v]) => `${k} ${ms(v)} (${rpc.calls.get(k)}×)`).join(', ')}`,
  );
  await dueBatch(10_000, 1);

  // Index use of the tick's queries.
  const explain = async (label: string, sql: string) => {
    const rows = await db.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, costs off, timing off, summary off) ${sql}`,
    );
    console.log(`  EXPLAIN ${label}:\n${rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}`);
  };
  const at = `to_timestamp(${now / 1000})`;
  await explain(
    'claim due',
    `select id from enrollments where status = 'active' and due_at <= ${at} and (lease_until is null or lease_until < ${at}) order by due_at limit 500 for update skip locked`,
  );
  await explain(
    'new events',
    `select id from events where status = 'new' and (lease_until is null or lease_until < ${at}) order by id limit 500 for update skip locked`,
  );
  await explain(
    "a user's events",
    `select * from events where line_user_id = any(array['U${'0'.repeat(31)}1']) and occurred_at >= ${at} - interval '30 days' and type = any(array['purchased'])`,
  );
  await explain(
    'pending batches',
    `select id from outbox_batches where status = 'pending' and (lease_until is null or lease_until < ${at}) order by created_at limit 200 for update skip locked`,
  );
  await explain(
    "a user's enrollments",
    `select * from enrollments where line_user_id = any(array['U${'0'.repeat(31)}1'])`,
  );
  await db.close();
}
