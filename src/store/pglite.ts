// The local default: an embedded Postgres (PGlite, WebAssembly) in a data folder.
// The package is loaded when a store is opened, never at start-up: the CLI's bundle keeps it
// outside (the installed package depends on it), and a bundler must not hoist it into a
// top-level import that every command would then need.
import { mkdir } from 'node:fs/promises';
import { rpcStatement, type SqlRpc } from './rpc.js';

async function loadPglite() {
  const { PGlite } = await import(/* webpackIgnore: true */ '@electric-sql/pglite');
  return PGlite;
}

/** A store in dataDir (created if missing), or in memory without one. */
export async function openPglite(dataDir?: string): Promise<SqlRpc> {
  const PGlite = await loadPglite();
  if (dataDir) await mkdir(dataDir, { recursive: true });
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
