// npm run migration -- <name>: writes supabase/migrations/<UTC timestamp>_<name>.sql, the
// statements that take a database built from the migrations so far to what
// supabase/schemas says (the one source of each definition). Prints what a person must
// write by hand (a column dropped, renamed or retyped) and writes nothing then.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparable, readCatalog } from './catalog.mjs';
import { fromMigrations, fromSchemas, MIGRATIONS_DIR, SCHEMAS_DIR } from './build.mjs';
import { schemaDiff } from './diff.mjs';

export async function migrationFor(
  name,
  { migrations = MIGRATIONS_DIR, schemas = SCHEMAS_DIR, now = new Date() } = {},
) {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`migration name "${name}": lower case letters, digits and _ only`);
  const a = await fromMigrations(migrations);
  const b = await fromSchemas(schemas);
  const from = comparable(await readCatalog(a.query));
  const to = comparable(await readCatalog(b.query));
  await a.db.close();
  await b.db.close();
  const { sql, manual } = schemaDiff(from, to);
  const stamp = now.toISOString().replace(/\D/g, '').slice(0, 14);
  const file = `${stamp}_${name}.sql`;
  const text = `-- line-step-delivery: ${name.replace(/_/g, ' ')}.
-- Written by npm run migration from supabase/schemas (the definitions and their why are there).

${sql.join('\n\n')}

select lsd_secure_tables(array[${to.tables.map((t) => `'${t.name}'`).join(', ')}]);
select lsd_secure_functions();
select lsd_migration_applied('${file}');
`;
  return { file, path: join(migrations, file), text, changes: sql.length, manual };
}

if (process.argv[1]?.endsWith('migration.mjs')) {
  const name = process.argv[2];
  if (!name) {
    console.error('usage: npm run migration -- <name>   (lower case, digits, _)');
    process.exit(2);
  }
  const m = await migrationFor(name);
  if (m.manual.length > 0) {
    console.error(`Write these by hand in a migration (not derived safely):\n- ${m.manual.join('\n- ')}`);
    process.exit(1);
  }
  if (m.changes === 0) {
    console.log('supabase/schemas and supabase/migrations agree: no migration written.');
  } else {
    writeFileSync(m.path, m.text);
    console.log(`${m.path}: ${m.changes} statement(s). Review it, then commit it with the schema change.`);
  }
}
