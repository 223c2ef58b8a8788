// The benchmarks' databases on a real PostgreSQL server.
import pg from 'pg';
import { openPostgres } from '../src/store/postgres.js';
import { migrate } from '../src/store/migrate.js';
import type { SqlRpc } from '../src/store/rpc.js';

/** The server: a postgres:// argument, else LSD_TEST_DATABASE_URL, else the local one. */
export function serverUrl(args: string[]): string {
  return (
    args.find((a) => a.startsWith('postgres')) ??
    process.env.LSD_TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

/** The URL of database `name` on the server of `baseUrl`. */
export function databaseUrl(baseUrl: string, name: string): string {
  return baseUrl.replace(/\/[^/]*$/, `/${name}`);
}

/** Drops and creates database `name`, migrated. */
export async function freshDatabase(baseUrl: string, name: string): Promise<SqlRpc> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const db = await openPostgres(databaseUrl(baseUrl, name));
  await migrate(db);
  return db;
}
