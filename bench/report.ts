// Report benchmark on a real PostgreSQL server: lsd_report over the last 7 and 30 days of a
// database with 1,000,000 enrollments and a month of history (3,000,000 recipients sent in
// 1.5 million push and 3,000 multicast batches, expired and failed steps, exits, goals,
// LINE's statistics per unit and day). Prints the database time of each report (target
// under 2 s) and EXPLAIN of the reads that use the report's indexes.
//
// On the store benchmark's database (lsd_bench, 10,000,000 events besides) when it exists,
// whose state is put back afterwards; otherwise on lsd_bench_report, built here once
// (events play no part in the report). Run: npm run bench -- report [--reuse] [postgres://...]
import pg from 'pg';
import { openPostgres } from '../src/store/postgres.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { Store } from '../src/store/store.js';
import { loadScenarioDir } from '../src/scenario/loader.js';
import type { SqlRpc } from '../src/store/rpc.js';
import { databaseUrl, freshDatabase, serverUrl } from './database.js';

const ENROLLMENTS = 1_000_000;
const DAY = 86_400_000;
const ms = (n: number) => `${n.toFixed(0)} ms`;

async function databaseExists(baseUrl: string, name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  const r = await admin.query('select 1 from pg_database where datname = $1', [name]);
  await admin.end();
  return r.rowCount === 1;
}

/** 1,000,000 users and enrollments, as the store benchmark makes them (without its events). */
async function buildEnrollments(db: SqlRpc, now: number): Promise<void> {
  const { scenarios } = await loadScenarioDir('scenarios');
  const compiled = scenarios.map((s) => s.compiled);
  await new Store(db).registerScenarios(
    now - 90 * DAY,
    compiled.map((c) => ({ id: c.id, hash: c.hash, version: c.scenario.version, definition: c.scenario })),
  );
  const arr = (f: (c: (typeof compiled)[number]) => string) => `array[${compiled.map((c) => `'${f(c)}'`).join(',')}]`;
  await db.exec(`insert into enrollments (scenario_id, line_user_id, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key)
    select (${arr((c) => c.id)})[1 + g % ${compiled.length}], 'U' || lpad(to_hex(g), 32, '0'), (${arr((c) => c.first)})[1 + g % ${compiled.length}],
           to_timestamp(${now / 1000}) - interval '3 days', to_timestamp(${now / 1000}) - interval '3 days',
           to_timestamp(${now / 1000}) + (g % 43200) * interval '1 minute' + interval '1 minute', (${arr((c) => c.hash)})[1 + g % ${compiled.length}],
           lsd_shard_key('U' || lpad(to_hex(g), 32, '0'))
    from generate_series(1, ${ENROLLMENTS}) g`);
}

/**
 * A month of history: enrollments that left (by reason), finished or converted; sends
 * spread over 30 days; expired and failed steps; LINE's statistics. Marked so it can be
 * taken away: batches and deliveries by their created_at second, enrollments by updated_at.
 */
async function addHistory(db: SqlRpc, now: number): Promise<void> {
  const at = `to_timestamp(${now / 1000})`;
  await db.exec(`
    update enrollments e set
      status = case when s.g % 10 < 3 then 'exited' when s.g % 10 < 5 then 'finished' else 'active' end,
      exit_reason = case when s.g % 10 = 0 then 'exit: purchased' when s.g % 10 = 1 then 'unfollowed' when s.g % 10 = 2 then 'goal: purchased' end,
      ended_at = case when s.g % 10 < 5 then ${at} - (s.g % 29) * interval '1 day' end,
      converted_at = case when s.g % 10 = 2 or s.g % 17 = 0 then ${at} - (s.g % 29) * interval '1 day' end,
      step_id = coalesce((select st->>'id' from jsonb_array_elements(v.definition->'steps') with ordinality x(st, i) where i = 1 + s.g % 3), e.step_id),
      updated_at = ${at}
    from (select id, ('x' || substr(md5(id::text), 1, 7))::bit(28)::int as g from enrollments) s, scenario_versions v
    where e.id = s.id and v.scenario_id = e.scenario_id and v.hash = e.scenario_hash;`);
  // 1.5 million pushes and 3,000 multicasts of 500, over 30 days, across the scenarios' message steps.
  await db.exec(`
    with steps as (
      select row_number() over () - 1 as k, v.scenario_id, st->>'id' as step_id, replace(v.scenario_id || '__' || (st->>'id'), '-', '_') as unit
      from scenarios sc join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
      cross join lateral jsonb_array_elements(v.definition->'steps') st where st->>'type' = 'message'),
    n as (select count(*) as n from steps)
    insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, status, sent_at, created_at, updated_at)
    select s.scenario_id, s.step_id, 'push', '[{"type":"text","text":"bench"}]', array['U' || lpad(to_hex(g), 32, '0')], left(s.unit, 30),
           case when g % 500 = 0 then 'failed' else 'sent' end, ${at} - (g % 2592000) * interval '1 second', ${at} - (g % 2592000) * interval '1 second' - interval '1 minute',
           ${at} - (g % 2592000) * interval '1 second'
    from generate_series(1, 1500000) g cross join n join steps s on s.k = g % n.n;`);
  await db.exec(`
    with steps as (
      select row_number() over () - 1 as k, v.scenario_id, st->>'id' as step_id, replace(v.scenario_id || '__' || (st->>'id'), '-', '_') as unit
      from scenarios sc join scenario_versions v on v.scenario_id = sc.scenario_id and v.hash = sc.current_hash
      cross join lateral jsonb_array_elements(v.definition->'steps') st where st->>'type' = 'message'),
    n as (select count(*) as n from steps)
    insert into outbox_batches (scenario_id, step_id, kind, messages, recipients, aggregation_unit, status, sent_at, created_at, updated_at)
    select s.scenario_id, s.step_id, 'multicast', '[{"type":"text","text":"bench"}]',
           array(select 'U' || lpad(to_hex(g * 500 + r), 32, '0') from generate_series(1, 500) r), left(s.unit, 30),
           'sent', ${at} - (g * 863) * interval '1 second', ${at} - (g * 863) * interval '1 second' - interval '1 minute', ${at} - (g * 863) * interval '1 second'
    from generate_series(1, 3000) g cross join n join steps s on s.k = g % n.n;`);
  await db.exec(`
    insert into deliveries (enrollment_id, scenario_id, step_id, line_user_id, kind, due_at, status, reason, created_at)
    select e.id, e.scenario_id, e.step_id, e.line_user_id, case when e.n % 3 = 0 then 'fail' else 'expire' end, ${at} - (e.n % 29) * interval '1 day',
           'skipped', 'bench', ${at} - (e.n % 29) * interval '1 day'
    from (select id, scenario_id, step_id, line_user_id, row_number() over () as n from enrollments limit 50000) e;`);
  await db.exec(`
    insert into line_unit_statistics (aggregation_unit, day, unique_impression, unique_click, impression, click, fetched_at)
    select distinct on (aggregation_unit, (sent_at at time zone 'Asia/Tokyo')::date) aggregation_unit, (sent_at at time zone 'Asia/Tokyo')::date, 300, 40, 320, 50, ${at}
    from outbox_batches where status = 'sent' on conflict do nothing;`);
}

/** Puts the store benchmark's database back as it was: its --reuse resets the rest. */
async function removeHistory(db: SqlRpc, now: number): Promise<void> {
  await db.exec(`delete from deliveries where reason = 'bench'; delete from outbox_batches where messages = '[{"type":"text","text":"bench"}]'::jsonb;
    delete from line_unit_statistics;
    update enrollments e set status = 'active', step_id = v.definition->'steps'->0->>'id', exit_reason = null, ended_at = null, converted_at = null,
      due_at = coalesce(e.due_at, to_timestamp(${now / 1000}) + interval '1 day')
    from scenario_versions v where v.scenario_id = e.scenario_id and v.hash = e.scenario_hash and e.updated_at = to_timestamp(${now / 1000});`);
}

export async function benchReport(args: string[] = []): Promise<void> {
  const baseUrl = serverUrl(args);
  const now = Date.parse('2026-11-25T03:00:00Z');
  const onStoreBench = await databaseExists(baseUrl, 'lsd_bench');
  const name = onStoreBench ? 'lsd_bench' : 'lsd_bench_report';
  let db: SqlRpc;
  const t0 = performance.now();
  if (onStoreBench || (args.includes('--reuse') && (await databaseExists(baseUrl, name)))) {
    db = await openPostgres(databaseUrl(baseUrl, name));
    for (const m of MIGRATIONS) await db.exec(m.sql);
  } else {
    db = await freshDatabase(baseUrl, name);
    await buildEnrollments(db, now);
  }
  const history =
    (
      await db.query<{ n: string }>(
        `select count(*)::text as n from outbox_batches where messages = '[{"type":"text","text":"bench"}]'::jsonb`,
      )
    )[0]!.n !== '0';
  if (!history) await addHistory(db, now);
  await db.exec('vacuum analyze');
  console.log(`report: database ${name} ready in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const facts = await db.query<{
    e: string;
    b: string;
    r: string;
    s: string;
  }>(`select (select count(*) from enrollments)::text as e,
    (select count(*) from outbox_batches)::text as b, (select sum(cardinality(recipients)) from outbox_batches where status = 'sent')::text as r,
    pg_size_pretty(pg_database_size(current_database())) as s`);
  const f = facts[0]!;
  console.log(
    `  ${Number(f.e).toLocaleString('en')} enrollments, ${Number(f.b).toLocaleString('en')} outbox batches (${Number(f.r).toLocaleString('en')} recipients sent), ${f.s}`,
  );

  const store = new Store(db);
  for (const days of [7, 30]) {
    const times: number[] = [];
    let scenarios = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const page = await store.reportPage({ from: now - days * DAY, to: now });
      times.push(performance.now() - t);
      scenarios = page.scenarios.length;
    }
    times.sort((a, b) => a - b);
    console.log(
      `  lsd_report, last ${days} days: ${ms(times[2]!)} database time (median of 5; ${ms(times[0]!)}-${ms(times[4]!)}; target under 2 s), ${scenarios} scenarios`,
    );
  }
  const t = performance.now();
  const due = await store.unitStatsDue({ from: now - 30 * DAY, to: now, now, limit: 100 });
  console.log(`  lsd_unit_stats_due, last 30 days: ${ms(performance.now() - t)} (${due.due.length} unit-days due)`);

  const explain = async (label: string, sql: string) => {
    const rows = await db.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, costs off, timing off, summary off) ${sql}`,
    );
    console.log(`  EXPLAIN ${label}:\n${rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}`);
  };
  const since = `to_timestamp(${(now - 7 * DAY) / 1000})`;
  await explain(
    'sent in the period',
    `select step_id, sum(cardinality(recipients)) from outbox_batches where status = 'sent' and sent_at >= ${since} group by 1`,
  );
  await explain(
    'expired and failed in the period',
    `select step_id, count(*) from deliveries where kind <> 'send' and created_at >= ${since} group by 1`,
  );
  await explain(
    'refused by LINE in the period',
    `select step_id, count(*) from outbox_batches where status = 'failed' and updated_at >= ${since} group by 1`,
  );
  if (onStoreBench) {
    await removeHistory(db, now);
    console.log('  (lsd_bench put back: its own history removed)');
  }
  await db.close();
}
