// The Supabase adapter through the real supabase-js, against a stand-in of PostgREST's
// RPC endpoint backed by the real Postgres server; and, when SUPABASE_URL and
// SUPABASE_SECRET_KEY are set, against a real Supabase project (opt-in).
import { test, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { openSupabase, SupabaseRpcError } from '../../src/store/supabase.js';
import { Store } from '../../src/store/store.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { serverStore } from '../support/db.js';
import { PostgrestStandIn } from '../support/postgrest.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const { scenarios } = await loadScenarioDir('scenarios');
const vip = scenarios.filter((s) => s.scenario.id === 'vip-list').map((s) => s.compiled);

test('a whole tick through supabase-js rpc calls: events in, messages out', async () => {
  const db = await serverStore();
  cleanups.push(db.drop);
  const rest = await new PostgrestStandIn(db.url).start();
  cleanups.push(() => rest.stop());
  const store = new Store(openSupabase(rest.url, rest.key));
  const now = Date.parse('2026-11-25T02:00:00Z');
  const sender = new NoLineSender();
  await runTick({ store, sender, scenarios: vip, now: () => now });
  await db.db.query(
    `insert into events (line_user_id, type, properties, occurred_at) values ($1, 'list_added', '{"list": "vip-2026"}', to_timestamp($2 / 1000.0))`,
    [`U${'1'.repeat(32)}`, now + 1000],
  );
  const r = await runTick({ store, sender, scenarios: vip, now: () => now + 60_000 });
  assert.equal(r.counts.total('sent'), 1);
  assert.deepEqual(
    sender.sent.flatMap((b) => b.recipients),
    [`U${'1'.repeat(32)}`],
  );
  for (const fn of [
    'lsd_register_scenarios',
    'lsd_ingest_claim',
    'lsd_ingest_commit',
    'lsd_claim_due',
    'lsd_commit_plans',
    'lsd_claim_batches',
    'lsd_record_results',
    'lsd_run_start',
    'lsd_run_finish',
  ]) {
    assert.ok(rest.calls.includes(fn), `${fn} went through the HTTP API`);
  }
});

test("errors come back with PostgREST's code and a hint: a wrong key, missing migrations", async () => {
  const db = await serverStore();
  cleanups.push(db.drop);
  const rest = await new PostgrestStandIn(db.url).start();
  cleanups.push(() => rest.stop());
  await assert.rejects(
    new Store(openSupabase(rest.url, 'sb_secret_wrong')).runStart({
      now: 0,
      shardIndex: 0,
      shardCount: 1,
      dryRun: false,
      trigger: 'test',
    }),
    (e: unknown) => e instanceof SupabaseRpcError && e.code === 'PGRST301',
  );
  await db.db.exec('drop function lsd_run_start(jsonb)');
  await assert.rejects(
    new Store(openSupabase(rest.url, rest.key)).runStart({
      now: 0,
      shardIndex: 0,
      shardCount: 1,
      dryRun: false,
      trigger: 'test',
    }),
    /PGRST202.*apply the migrations: supabase db push/,
  );
  const unreachable = new Store(openSupabase('http://127.0.0.1:9', rest.key));
  await assert.rejects(
    unreachable.runStart({ now: 0, shardIndex: 0, shardCount: 1, dryRun: false, trigger: 'test' }),
    /could not be reached/,
  );
});

const real = process.env.SUPABASE_URL && process.env.SUPABASE_SECRET_KEY;
// Skipped unless SUPABASE_URL and SUPABASE_SECRET_KEY (with the migrations applied) are set.
test.skipIf(!real)('opt-in: a tick against the real Supabase project in SUPABASE_URL', async () => {
  const store = new Store(openSupabase(process.env.SUPABASE_URL!, process.env.SUPABASE_SECRET_KEY!));
  const r = await runTick({
    store,
    sender: new NoLineSender(),
    scenarios: vip,
    now: Date.now,
    onlyScenario: 'vip-list',
  });
  assert.ok(r.runId);
});
