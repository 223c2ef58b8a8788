// What a database holds of the engine's schema, read from PostgreSQL's catalogs: every
// table (columns, constraints, row level security, grants, comments), index, trigger and
// function (its full definition with settings, and grants) of the public schema, leaving
// out what extensions own. Two databases built two ways (from supabase/migrations and from
// supabase/schemas) hold the same schema when their catalogs are equal.
// `query(sql)` answers rows: any client (PGlite, pg) wrapped to that shape.

const OWNED_BY_EXTENSION = `exists (select 1 from pg_depend d where d.objid = %OID% and d.deptype = 'e')`;
const notExt = (oid) => `not ${OWNED_BY_EXTENSION.replace('%OID%', oid)}`;

/** The tables of public in the order they were created (oid), with what defines them. */
async function tables(query) {
  const rows = await query(`
    select c.oid, c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as force_rls,
           coalesce(c.relacl::text, '') as acl, coalesce(array_to_string(c.reloptions, ', '), '') as options,
           obj_description(c.oid, 'pg_class') as comment
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and ${notExt('c.oid')}
    order by c.oid`);
  const out = [];
  for (const t of rows) {
    const columns = await query(`
      select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
             pg_get_expr(d.adbin, d.adrelid) as default, a.attidentity as identity, a.attgenerated as generated,
             col_description(a.attrelid, a.attnum) as comment
      from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = ${t.oid} and a.attnum > 0 and not a.attisdropped order by a.attnum`);
    const constraints = await query(`
      select conname as name, contype as type, pg_get_constraintdef(oid) as def
      from pg_constraint where conrelid = ${t.oid} and contype <> 'n' order by contype, conname`);
    out.push({ ...t, columns, constraints });
  }
  return out;
}

async function indexes(query) {
  return query(`
    select i.indexname as name, i.tablename as table, i.indexdef as def
    from pg_indexes i
    where i.schemaname = 'public'
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname and c.conindid <> 0)
    order by i.tablename, i.indexname`);
}

async function triggers(query) {
  return query(`
    select t.tgname as name, c.relname as table, pg_get_triggerdef(t.oid) as def
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and not t.tgisinternal order by c.relname, t.tgname`);
}

async function functions(query) {
  return query(`
    select p.oid::regprocedure::text as signature, p.proname as name, pg_get_functiondef(p.oid) as def,
           coalesce(p.proacl::text, '') as acl, obj_description(p.oid, 'pg_proc') as comment
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.prokind in ('f', 'p') and ${notExt('p.oid')}
    order by p.proname, p.oid::regprocedure::text`);
}

/** The whole catalog of the engine's schema. */
export async function readCatalog(query) {
  return {
    tables: await tables(query),
    indexes: await indexes(query),
    triggers: await triggers(query),
    functions: await functions(query),
  };
}

/** The catalog without what differs between two equal schemas built apart (oids). */
export function comparable(catalog) {
  return {
    ...catalog,
    tables: catalog.tables
      .map((t) => Object.fromEntries(Object.entries(t).filter(([k]) => k !== 'oid')))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
