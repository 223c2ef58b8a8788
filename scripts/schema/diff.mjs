// The SQL that takes a database whose catalog is `from` to the catalog `to` (both read by
// scripts/schema/catalog.mjs): functions, indexes and triggers created, replaced or
// dropped; tables created; columns added; constraints, options, RLS and comments set. A
// change a statement cannot be derived for safely (a column dropped, renamed or retyped) is
// named in `manual`, for a person to write.
import { tableDdl } from './ddl.mjs';

const quote = (text) => `'${text.replace(/'/g, "''")}'`;
const byKey = (rows, key) => new Map(rows.map((r) => [key(r), r]));

function functionChanges(from, to) {
  const before = byKey(from.functions, (f) => f.signature);
  const after = byKey(to.functions, (f) => f.signature);
  const sql = [];
  for (const sig of before.keys()) if (!after.has(sig)) sql.push(`drop function if exists ${sig};`);
  for (const [sig, f] of after) {
    const old = before.get(sig);
    if (!old || old.def !== f.def) sql.push(`${f.def.trimEnd()};`);
    if ((old?.comment ?? null) !== f.comment && f.comment !== null)
      sql.push(`comment on function ${sig} is ${quote(f.comment)};`);
  }
  return sql;
}

function columnChanges(t, old, manual) {
  const sql = [];
  const oldCols = byKey(old.columns, (c) => c.name);
  const newCols = byKey(t.columns, (c) => c.name);
  for (const name of oldCols.keys()) if (!newCols.has(name)) manual.push(`column ${t.name}.${name} dropped or renamed`);
  for (const c of t.columns) {
    const o = oldCols.get(c.name);
    if (!o) {
      const [line] = tableDdl({ ...t, columns: [c], constraints: [] }, [])
        .split('\n')
        .slice(1, 2);
      sql.push(`alter table ${t.name} add column if not exists ${line.trim()};`);
      continue;
    }
    if (o.type !== c.type || o.identity !== c.identity || o.generated !== c.generated)
      manual.push(`column ${t.name}.${c.name} changes its type or identity`);
    if (o.default !== c.default)
      sql.push(
        c.default === null
          ? `alter table ${t.name} alter column ${c.name} drop default;`
          : `alter table ${t.name} alter column ${c.name} set default ${c.default};`,
      );
    if (o.not_null !== c.not_null)
      sql.push(`alter table ${t.name} alter column ${c.name} ${c.not_null ? 'set' : 'drop'} not null;`);
    if (o.comment !== c.comment && c.comment !== null)
      sql.push(`comment on column ${t.name}.${c.name} is ${quote(c.comment)};`);
  }
  return sql;
}

function tableChanges(from, to, manual) {
  const before = byKey(from.tables, (t) => t.name);
  const sql = [];
  for (const name of before.keys())
    if (!to.tables.some((t) => t.name === name)) manual.push(`table ${name} dropped or renamed`);
  for (const t of to.tables) {
    const old = before.get(t.name);
    if (!old) {
      sql.push(tableDdl(t, []).trimEnd());
      continue;
    }
    sql.push(...columnChanges(t, old, manual));
    const oldCons = byKey(old.constraints, (k) => k.name);
    const newCons = byKey(t.constraints, (k) => k.name);
    for (const [name, k] of oldCons)
      if (newCons.get(name)?.def !== k.def) sql.push(`alter table ${t.name} drop constraint if exists ${name};`);
    for (const [name, k] of newCons)
      if (oldCons.get(name)?.def !== k.def) sql.push(`alter table ${t.name} add constraint ${name} ${k.def};`);
    if (old.options !== t.options) {
      if (t.options) sql.push(`alter table ${t.name} set (${t.options});`);
      else manual.push(`table ${t.name} storage options removed`);
    }
    if (old.rls !== t.rls) sql.push(`alter table ${t.name} ${t.rls ? 'enable' : 'disable'} row level security;`);
    if (old.force_rls !== t.force_rls)
      sql.push(`alter table ${t.name} ${t.force_rls ? '' : 'no '}force row level security;`);
    if (old.comment !== t.comment && t.comment !== null) sql.push(`comment on table ${t.name} is ${quote(t.comment)};`);
  }
  return sql;
}

function namedChanges(from, to, kind) {
  const before = byKey(from, (x) => x.name);
  const after = byKey(to, (x) => x.name);
  const sql = [];
  for (const [name, x] of before)
    if (after.get(name)?.def !== x.def)
      sql.push(kind === 'index' ? `drop index if exists ${name};` : `drop trigger if exists ${name} on ${x.table};`);
  for (const [name, x] of after) if (before.get(name)?.def !== x.def) sql.push(`${x.def};`);
  return sql;
}

/** { sql: statements in order, manual: changes a person must write } */
export function schemaDiff(from, to) {
  const manual = [];
  const sql = [
    ...tableChanges(from, to, manual),
    ...namedChanges(from.indexes, to.indexes, 'index'),
    ...functionChanges(from, to),
    ...namedChanges(from.triggers, to.triggers, 'trigger'),
  ];
  return { sql, manual };
}
