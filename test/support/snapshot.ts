// Every table's rows, hashed: equal snapshots mean nothing was written (a what-if, run mode
// plan-only, must leave them all equal).
import type { SqlRpc } from '../../src/store/rpc.js';

export async function tableSnapshot(db: SqlRpc): Promise<Record<string, string>> {
  const tables = await db.query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = current_schema() order by tablename`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db.query<{ n: number; h: string | null }>(
      `select count(*)::int as n, md5(string_agg(t::text, '|' order by t::text)) as h from "${name}" t`,
    );
    out[name] = `${row!.n} ${row!.h}`;
  }
  return out;
}
