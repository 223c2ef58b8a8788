// Databases for tests: PGlite in memory for most SQL tests, and a real PostgreSQL server
// (chosen once per run by test/setup/postgres-server.ts) for what needs two connections.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { migrate } from '../../src/store/migrate.js';
import { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';

export async function pgliteStore(): Promise<{ store: Store; db: SqlRpc }> {
  const db = await openPglite();
  await migrate(db);
  return { store: new Store(db), db };
}

/** The server the global setup chose (test/setup/postgres-server.ts). */
const server = async (): Promise<string> => inject('databaseUrl');

/** A new, empty database on the real server (nothing migrated); drop() removes it. */
export async function serverDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = await server();
  const name = `lsd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
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
  const { url, drop } = await serverDatabase();
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
