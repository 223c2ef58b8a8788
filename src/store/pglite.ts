// The local default: an embedded Postgres (PGlite, WebAssembly) in a data folder.
import { PGlite } from '@electric-sql/pglite';
import { rpcStatement, type SqlRpc } from './rpc.js';

export async function openPglite(dataDir?: string): Promise<SqlRpc> {
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  return {
    label: dataDir ? `PGlite (${dataDir})` : 'PGlite (in memory)',
    async call<T>(fn: string, payload: unknown): Promise<T> {
      const { rows } = await db.query<{ r: T }>(rpcStatement(fn), [JSON.stringify(payload)]);
      return rows[0]!.r;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    async query<R>(sql: string, params: unknown[] = []) {
      return (await db.query<R>(sql, params)).rows;
    },
    async close() {
      await db.close();
    },
  };
}
