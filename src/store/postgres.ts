// A direct Postgres connection (DATABASE_URL): self-hosted Postgres, Supabase's
// connection string, and the tests that need two connections at once.
import pg from 'pg';
import { CallTimer, rpcStatement, type SqlRpc } from './rpc.js';

/** Connections kept for the outbox sender, the lease keeper and the run's own calls beside the planning lanes. */
const BESIDE_LANES = 4;

export async function openPostgres(connectionString: string, options: { max?: number } = {}): Promise<SqlRpc> {
  // Opened as needed: a database next door uses a few; one far away as many as its lanes.
  const max = options.max ?? 16;
  const pool = new pg.Pool({ connectionString, max, application_name: 'line-step-delivery' });
  const timer = new CallTimer();
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
    maxLanes: Math.max(2, max - BESIDE_LANES),
    get fastestCallMs() {
      return timer.fastest;
    },
    async call<T>(fn: string, payload: unknown): Promise<T> {
      const { rows } = await timer.time(() => pool.query<{ r: T }>(rpcStatement(fn), [JSON.stringify(payload)]));
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
