// Builds a database in memory (PGlite) two ways: from supabase/migrations, as every
// installed database was, and from supabase/schemas, the one source of each definition.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const MIGRATIONS_DIR = 'supabase/migrations';
export const SCHEMAS_DIR = 'supabase/schemas';
/** The order schemas are applied in (supabase/config.toml's schema_paths says the same). */
export const SCHEMA_PARTS = ['tables', 'functions', 'triggers.sql', 'grants.sql'];

const sqlFiles = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => join(dir, f));

/** The schema files in the order they are applied. */
export function schemaFiles(dir = SCHEMAS_DIR) {
  const out = [];
  for (const part of SCHEMA_PARTS) {
    const path = join(dir, part);
    if (!existsSync(path)) continue;
    if (part.endsWith('.sql')) out.push(path);
    else out.push(...sqlFiles(path));
  }
  return out;
}

async function pglite() {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  await db.waitReady;
  // Supabase's API roles, so that grants (lsd_secure_functions, lsd_secure_tables) are built and compared.
  await db.exec('create role anon; create role authenticated; create role service_role;');
  return { db, query: async (sql) => (await db.query(sql)).rows };
}

/** A database with every migration applied, in order. */
export async function fromMigrations(dir = MIGRATIONS_DIR) {
  const { db, query } = await pglite();
  for (const file of sqlFiles(dir)) await db.exec(readFileSync(file, 'utf8'));
  return { db, query };
}

/** A database built from the schema files (function bodies are checked when called, not created). */
export async function fromSchemas(dir = SCHEMAS_DIR) {
  const { db, query } = await pglite();
  await db.exec('set check_function_bodies = off');
  for (const file of schemaFiles(dir)) {
    try {
      await db.exec(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`${file}: ${error.message}`, { cause: error });
    }
  }
  await db.exec('reset check_function_bodies');
  return { db, query };
}
