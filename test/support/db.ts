// Databases for tests: PGlite in memory for most SQL tests, and a real PostgreSQL server
// (chosen once per run by test/setup/postgres-server.ts) for what needs two connections.
// A migrated one is a copy of the run's template (test/setup/templates.ts), then migrated
// (which finds nothing to apply): the copy takes a fraction of the migrations' time.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { openPostgres } from '../../src/store/postgres.js';
import { migrate } from '../../src/store/migrate.js';
import { Store } from '../../src/store/store.js';
import { rpcStatement, type SqlRpc } from '../../src/store/rpc.js';

/** The migrated PGlite's dump, read once per test file. */
let template: Promise<Buffer> | undefined;

/** An in-memory PGlite loaded from the template: the adapter of src/store/pglite.ts over it. */
async function pgliteFromTemplate(): Promise<SqlRpc> {
  template ??= readFile(inject('pgliteTemplate'));
  const db = await PGlite.create({ loadDataDir: new Blob([await template]) });
  return {
    label: 'PGlite (in memory)',
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

export async function pgliteStore(): Promise<{ store: Store; db: SqlRpc }> {
  const db = await pgliteFromTemplate();
  await migrate(db);
  return { store: new Store(db), db };
}

/** The server the global setup chose (test/setup/postgres-server.ts). */
const server = async (): Promise<string> => inject('databaseUrl');

/** A new database on the real server: empty, or a copy of a template; drop() removes it. */
export async function serverDatabase(templateName?: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = await server();
  const name = `lsd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}${templateName ? ` template ${templateName}` : ''}`);
  await admin.end();
  return {
    url: base.replace(/\/[^/]*$/, `/${name}`),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A new database on the real server, migrated; drop() removes it. */
export async function serverStore(
  options: { max?: number } = {},
): Promise<{ store: Store; db: SqlRpc; url: string; open: () => Promise<Store>; drop: () => Promise<void> }> {
  const { url, drop } = await serverDatabase(inject('templateDatabase'));
  const db = await openPostgres(url, options);
  await migrate(db);
  const opened: SqlRpc[] = [db];
  return {
    store: new Store(db),
    db,
    url,
    open: async () => {
      const another = await openPostgres(url, options);
      opened.push(another);
      return new Store(another);
    },
    drop: async () => {
      for (const o of opened) await o.close().catch(() => {});
      await drop();
    },
  };
}
