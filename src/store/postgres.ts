// A direct Postgres connection (DATABASE_URL): self-hosted Postgres, Supabase's
// connection string, and the tests that need two connections at once.
import pg from 'pg';
import { rpcStatement, type SqlRpc } from './rpc.js';

export async function openPostgres(connectionString: string, options: { max?: number } = {}): Promise<SqlRpc> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 4, application_name: 'line-step-delivery' });
  // An idle connection that the server closes (a restart, a dropped database) must not
  // crash the process: the pool replaces it, and a call in flight fails with its error.
  pool.on('error', () => {});
  // Fail here, with the reason, rather than at the first call.
  const client = await pool.connect();
  client.release();
  return {
    label: 'Postgres (DATABASE_URL)',
    // Two pages in flight keep a server busy on two cores while this process plans.
    lanes: 2,
    async call<T>(fn: string, payload: unknown): Promise<T> {
      const { rows } = await pool.query<{ r: T }>(rpcStatement(fn), [JSON.stringify(payload)]);
      return rows[0]!.r;
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async query<R>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as R[];
    },
    async close() {
      await pool.end();
    },
  };
}
