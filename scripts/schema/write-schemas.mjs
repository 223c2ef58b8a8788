// Writes supabase/schemas from the database the migrations build: one file per table (its
// columns, constraints, row level security, comments and indexes), one per function name
// (every overload), the triggers and the grants; each definition with its why, the comment
// that stands before it in the migration that last defined it. Used to sync the schemas
// after a migration was written by hand; `npm run migration` goes the other way.
//   node scripts/schema/write-schemas.mjs [MIGRATIONS_DIR]
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCatalog } from './catalog.mjs';
import { fromMigrations, MIGRATIONS_DIR, SCHEMAS_DIR } from './build.mjs';
import { tableDdl } from './ddl.mjs';

const migrationTexts = (migrations) =>
  readdirSync(migrations)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(join(migrations, f), 'utf8'));

/**
 * The comment lines right above the last statement that matches `pattern` in the
 * migrations (the last that has any, when the newest stands without one).
 */
export function whyOf(texts, pattern) {
  let found;
  for (const text of texts) {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!pattern.test(line)) return;
      let j = i;
      while (j > 0 && /^--/.test(lines[j - 1])) j--;
      if (j < i) found = lines.slice(j, i).join('\n');
    });
  }
  return found ?? '';
}

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const withWhy = (why, body) => (why ? `${why}\n${body}` : body);

function writeTables(dir, catalog, texts) {
  mkdirSync(join(dir, 'tables'), { recursive: true });
  catalog.tables.forEach((t, i) => {
    const why = whyOf(texts, new RegExp(`^create table if not exists ${escape(t.name)}\\b`, 'i'));
    const own = catalog.indexes.filter((x) => x.table === t.name);
    const text = withWhy(why, tableDdl(t, own));
    writeFileSync(join(dir, 'tables', `${String(i + 1).padStart(2, '0')}_${t.name}.sql`), text);
  });
}

function writeFunctions(dir, catalog, texts) {
  mkdirSync(join(dir, 'functions'), { recursive: true });
  const byName = new Map();
  for (const f of catalog.functions) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
  for (const [name, overloads] of byName) {
    const why = whyOf(texts, new RegExp(`^create or replace function ${escape(name)}\\(`, 'i'));
    const body = overloads.map((f) => `${f.def.trimEnd()};\n`).join('\n');
    const comments = overloads
      .filter((f) => f.comment)
      .map((f) => `comment on function ${f.signature} is ${quote(f.comment)};\n`)
      .join('');
    writeFileSync(join(dir, 'functions', `${name}.sql`), withWhy(why, body) + comments);
  }
}

export const quote = (text) => `'${text.replace(/'/g, "''")}'`;

function writeTriggersAndGrants(dir, catalog) {
  const triggers = catalog.triggers.map((t) => `${t.def};`).join('\n');
  writeFileSync(
    join(dir, 'triggers.sql'),
    `-- The engine's triggers (their functions are in functions/).\n${triggers}\n`,
  );
  writeFileSync(
    join(dir, 'grants.sql'),
    `-- Only the service role reaches tables and functions: RLS on every table, no grant to anon or
-- authenticated, execute on the engine's functions for service_role alone (see the two functions).
select lsd_secure_tables(array[${catalog.tables.map((t) => quote(t.name)).join(', ')}]);
select lsd_secure_functions();
`,
  );
}

export async function writeSchemas(dir = SCHEMAS_DIR, migrations = MIGRATIONS_DIR) {
  const { db, query } = await fromMigrations(migrations);
  const catalog = await readCatalog(query);
  await db.close();
  const texts = migrationTexts(migrations);
  rmSync(join(dir, 'tables'), { recursive: true, force: true });
  rmSync(join(dir, 'functions'), { recursive: true, force: true });
  writeTables(dir, catalog, texts);
  writeFunctions(dir, catalog, texts);
  writeTriggersAndGrants(dir, catalog);
  return catalog;
}

if (process.argv[1]?.endsWith('write-schemas.mjs')) {
  const catalog = await writeSchemas(SCHEMAS_DIR, process.argv[2] ?? MIGRATIONS_DIR);
  console.log(
    `supabase/schemas: ${catalog.tables.length} tables, ${catalog.functions.length} functions, ${catalog.triggers.length} triggers`,
  );
}
