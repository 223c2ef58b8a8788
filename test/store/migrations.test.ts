// Migrations: append-only files that record themselves, embedded as they are, and an
// engine that refuses a database behind or ahead of the release before touching anything.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { migrationsModule } from '../../scripts/embed-migrations.mjs';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { migrate } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite.js';
import { Store } from '../../src/store/store.js';
import { KNOWN_MIGRATIONS, SchemaMismatch, appliedMigrations, compareSchema } from '../../src/store/schema-version.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { loadScenarioDir } from '../../src/scenario/loader.js';

const DIR = 'supabase/migrations';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort();
const { scenarios } = await loadScenarioDir('scenarios');

test('the embedded migrations are the files in supabase/migrations, and the committed bundles carry each (run npm run build after adding one)', () => {
  assert.equal(readFileSync('src/store/migrations.ts', 'utf8'), migrationsModule());
  assert.deepEqual(KNOWN_MIGRATIONS, files);
  for (const bundle of ['dist/index.js', 'dist/cli/index.js']) {
    const text = readFileSync(bundle, 'utf8');
    for (const f of files) assert.ok(text.includes(JSON.stringify(f)), `${bundle} lacks ${f}: run npm run build`);
  }
});

test('every migration file is named <14 digits>_<name>.sql, and from the third on records itself', () => {
  for (const f of files) {
    assert.match(f, /^\d{14}_[a-z0-9_]+\.sql$/, f);
    if (f < '20261125000003') continue;
    const sql = readFileSync(`${DIR}/${f}`, 'utf8');
    assert.match(
      sql,
      new RegExp(`select lsd_migration_applied\\('${f.replace(/\./g, '\\.')}'\\);\\s*$`),
      `${f} must end with select lsd_migration_applied('${f}');`,
    );
    assert.match(
      sql,
      /select lsd_secure_functions\(\);/,
      `${f} must call select lsd_secure_functions(); so new functions are not executable by anon`,
    );
  }
});

test('a database behind the release: the tick stops before touching anything, naming the files to apply', async () => {
  const db = await openPglite();
  await migrate(db, MIGRATIONS.slice(0, 2)); // what the first release set up
  await db.query(`insert into events (line_user_id, type, source) values ($1, 'follow', 'test')`, [
    `U${'1'.repeat(32)}`,
  ]);
  const store = new Store(db);
  assert.equal(await appliedMigrations(store.rpc), null, 'no record before migration 3');
  await assert.rejects(
    runTick({
      store,
      sender: new NoLineSender(),
      scenarios: scenarios.map((s) => s.compiled),
      now: () => Date.parse('2026-11-25T03:00:00Z'),
    }),
    (e: unknown) =>
      e instanceof SchemaMismatch &&
      e.message.includes('behind') &&
      e.message.includes('20261125000003_schema_version.sql') &&
      e.missing.length === files.length - 2,
  );
  const rows = await db.query<{ status: string }>(`select status from events`);
  assert.deepEqual(
    rows.map((r) => r.status),
    ['new'],
    'the event was not taken in',
  );
  assert.equal((await db.query(`select 1 from runs`)).length, 0, 'no run was recorded');
  // Applying the rest brings it forward; then it ticks.
  await migrate(db);
  await runTick({
    store,
    sender: new NoLineSender(),
    scenarios: scenarios.map((s) => s.compiled),
    now: () => Date.parse('2026-11-25T03:00:00Z'),
  });
  assert.deepEqual(
    (await db.query<{ status: string }>(`select status from events`)).map((r) => r.status),
    ['done'],
  );
  await db.close();
});

test('a database ahead of the release (set up by a newer one) is refused and named', async () => {
  const db = await openPglite();
  await migrate(db);
  await db.query(`insert into lsd_schema_migrations (name) values ('20991231000000_from_the_future.sql')`);
  const store = new Store(db);
  await assert.rejects(
    runTick({ store, sender: new NoLineSender(), scenarios: [], now: () => Date.parse('2026-11-25T03:00:00Z') }),
    /ahead of this release.*20991231000000_from_the_future\.sql.*Update the action/,
  );
  await db.close();
});

test('compareSchema: agreement, behind, ahead', () => {
  assert.equal(compareSchema([...KNOWN_MIGRATIONS]), undefined);
  assert.deepEqual(compareSchema(KNOWN_MIGRATIONS.slice(0, -1))?.missing, KNOWN_MIGRATIONS.slice(-1));
  assert.deepEqual(compareSchema([...KNOWN_MIGRATIONS, 'x.sql'])?.unknown, ['x.sql']);
});
