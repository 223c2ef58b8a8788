// The store port at its narrowest: call one SQL function with one jsonb, get one jsonb.
// Every adapter (Supabase, a direct Postgres connection, PGlite) implements only this,
// so the meaning lives in the SQL and the adapters stay too thin to differ.
export interface Rpc {
  /** Calls public.<fn>(p jsonb) and returns its jsonb result. */
  call<T = unknown>(fn: string, payload: unknown): Promise<T>;
  close(): Promise<void>;
  /** Where the state lives, for the job summary (never a secret). */
  readonly label: string;
  /** How many calls are worth making at once with the database next door (a tick plans that many pages side by side); default 1. */
  readonly lanes?: number;
  /** The most calls the adapter may have in flight for planning (its connections); default lanes. */
  readonly maxLanes?: number;
  /** The fastest call so far, in ms: about one round trip to the database. */
  readonly fastestCallMs?: number | undefined;
}

/** Keeps the fastest duration of the calls it times: about one round trip. */
export class CallTimer {
  fastest: number | undefined;

  async time<T>(call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await call();
    const ms = performance.now() - start;
    if (this.fastest === undefined || ms < this.fastest) this.fastest = ms;
    return result;
  }
}

/** A direct SQL connection (PGlite or Postgres): also runs migrations and ad-hoc queries in tests. */
export interface SqlRpc extends Rpc {
  exec(sql: string): Promise<void>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export const FUNCTION_NAME = /^lsd_[a-z_]+$/;

export function rpcStatement(fn: string): string {
  if (!FUNCTION_NAME.test(fn)) throw new Error(`not an engine function: ${fn}`);
  return `select ${fn}($1::jsonb) as r`;
}
