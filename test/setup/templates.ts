// Vitest global setup: the migrated databases every test copies instead of migrating its
// own (migrating took seconds a database; a copy is a fraction of that): a database on
// the PostgreSQL server to create others from (CREATE DATABASE … TEMPLATE), and a PGlite
// data folder dumped to a file that each in-memory PGlite loads. Both are this run's own
// (a random name; other runs may share the server) and removed at its end.
// test/support/db.ts uses them; the migration tests still migrate empty databases.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/store/migrate.js';
import { openPostgres } from '../../src/store/postgres.js';
import type { SqlRpc } from '../../src/store/rpc.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated database on the server (its name), to create test databases from. */
    templateDatabase: string;
    /** A migrated PGlite's data folder, dumped (a tar file's path). */
    pgliteTemplate: string;
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates and migrates the server's template; every connection to it closed (CREATE DATABASE needs none). */
async function serverTemplate(url: string): Promise<string> {
  const name = `lsd_template_${randomBytes(6).toString('hex')}`;
  await adminQuery(url, `create database ${name}`);
  const db = await openPostgres(url.replace(/\/[^/]*$/, `/${name}`), { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return name;
}

async function pgliteTemplate(dir: string): Promise<string> {
  const pglite = await PGlite.create();
  const db = {
    exec: async (sql: string) => void (await pglite.exec(sql)),
    query: async <R>(sql: string, params: unknown[] = []) => (await pglite.query<R>(sql, params)).rows,
  } as SqlRpc;
  await migrate(db);
  const dump = await pglite.dumpDataDir('none');
  await pglite.close();
  const file = join(dir, 'pglite-migrated.tar');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  return file;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = project.getProvidedContext().databaseUrl;
  const dir = await mkdtemp(join(tmpdir(), 'lsd-templates-'));
  const [database, pgliteFile] = await Promise.all([serverTemplate(url), pgliteTemplate(dir)]);
  project.provide('templateDatabase', database);
  project.provide('pgliteTemplate', pgliteFile);
  return async () => {
    await adminQuery(url, `drop database if exists ${database} with (force)`);
    await rm(dir, { recursive: true, force: true });
  };
}
