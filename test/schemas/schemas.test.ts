// supabase/schemas is the one source of each table, index, trigger, function and grant;
// supabase/migrations, append-only, is what installed databases applied. Both must build
// the same database, and `npm run migration` must write what a schema change needs.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromMigrations, fromSchemas, type Built } from '../../scripts/schema/build.mjs';
import { comparable, readCatalog, type Catalog } from '../../scripts/schema/catalog.mjs';
import { migrationFor } from '../../scripts/schema/migration.mjs';

async function catalogOf(build: Promise<Built>): Promise<Catalog> {
  const { db, query } = await build;
  try {
    return comparable(await readCatalog(query));
  } finally {
    await db.close();
  }
}

/** The first difference between two catalogs, named: a function, a table, an index... */
function firstDifference(a: Catalog, b: Catalog): string | undefined {
  for (const kind of ['tables', 'indexes', 'triggers', 'functions'] as const) {
    const key = (x: Record<string, unknown>) => String(x.signature ?? x.name);
    const left = new Map((a[kind] as Record<string, unknown>[]).map((x) => [key(x), JSON.stringify(x)]));
    const right = new Map((b[kind] as Record<string, unknown>[]).map((x) => [key(x), JSON.stringify(x)]));
    for (const name of new Set([...left.keys(), ...right.keys()]))
      if (left.get(name) !== right.get(name)) return `${kind}: ${name}`;
  }
  return undefined;
}

test('supabase/schemas builds the same database as supabase/migrations: every table, column, constraint, index, trigger, function, grant and comment', async () => {
  const migrated = await catalogOf(fromMigrations());
  const declared = await catalogOf(fromSchemas());
  assert.ok(migrated.functions.length > 50 && migrated.tables.length > 10, 'the catalog reads the engine');
  const diff = firstDifference(migrated, declared);
  assert.equal(
    diff,
    undefined,
    `${diff} differs: change supabase/schemas and run npm run migration -- <name> (or, after a hand-written migration, node scripts/schema/write-schemas.mjs)`,
  );
  assert.deepEqual(declared, migrated);
});

test('npm run migration writes the statements a schema change needs: applied after the migrations, the database is what the schemas say', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lsd-schemas-'));
  const migrations = join(dir, 'migrations');
  const schemas = join(dir, 'schemas');
  cpSync('supabase/migrations', migrations, { recursive: true });
  cpSync('supabase/schemas', schemas, { recursive: true });
  try {
    // A function's body changes, a column and an index are added, a new table and function appear.
    const ms = join(schemas, 'functions', 'lsd_ms.sql');
    writeFileSync(ms, readFileSync(ms, 'utf8').replace(/\$function\$\s*\n?\s*select/i, '$function$ select 0 + '));
    appendFileSync(
      join(schemas, 'tables', '09_runs.sql'),
      "alter table runs add column if not exists note text default 'none' not null;\ncreate index runs_note on runs (note);\n",
    );
    writeFileSync(
      join(schemas, 'tables', '99_examples.sql'),
      'create table if not exists examples (id bigint primary key, label text);\nalter table examples enable row level security;\n',
    );
    writeFileSync(
      join(schemas, 'functions', 'lsd_example.sql'),
      'create or replace function lsd_example(p jsonb) returns jsonb language sql as $$ select p $$;\n',
    );
    writeFileSync(
      join(schemas, 'grants.sql'),
      readFileSync(join(schemas, 'grants.sql'), 'utf8').replace("array['line_users'", "array['examples', 'line_users'"),
    );
    const m = await migrationFor('example_change', { migrations, schemas, now: new Date('2099-01-01T00:00:00Z') });
    assert.deepEqual(m.manual, []);
    assert.ok(m.changes >= 5, `statements written: ${m.changes}`);
    writeFileSync(m.path, m.text);
    const migrated = await catalogOf(fromMigrations(migrations));
    const declared = await catalogOf(fromSchemas(schemas));
    assert.equal(firstDifference(migrated, declared), undefined);
    assert.ok(migrated.functions.some((f) => f.name === 'lsd_example'));

    // A column dropped is for a person to write: nothing is derived for it.
    const runs = join(schemas, 'tables', '09_runs.sql');
    writeFileSync(runs, readFileSync(runs, 'utf8').replace(/\n\s*trigger text,/, ''));
    const dropped = await migrationFor('drop_a_column', { migrations, schemas });
    assert.deepEqual(dropped.manual, ['column runs.trigger dropped or renamed']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
