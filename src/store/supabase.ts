// Supabase through its HTTP API (PostgREST): one rpc call per engine function. This is
// the only code here that CI cannot run against the real service (PostgREST does not run
// on the test machine); it is exercised through supabase-js against a stand-in of the
// RPC endpoint, and for real by the opt-in test when SUPABASE_URL is set.
import { createClient, type PostgrestError } from '@supabase/supabase-js';
import { CallTimer, rpcStatement, type Rpc } from './rpc.js';

export class SupabaseRpcError extends Error {
  constructor(
    readonly fn: string,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(`${fn}: ${message}${code ? ` (${code})` : ''}${hint ? `. ${hint}` : ''}`);
  }
}

export function openSupabase(url: string, secretKey: string, options: { fetch?: typeof fetch } = {}): Rpc {
  // sb_secret_... keys and legacy service_role JWTs are both accepted as the key.
  const client = createClient(url, secretKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
  });
  const timer = new CallTimer();
  return {
    label: `Supabase (${new URL(url).host})`,
    // PostgREST serves requests from a pool of connections: two pages in flight next door,
    // more when the project is far (requests share keep-alive connections), within a budget
    // well under the pool Supabase gives the API on its smallest instance.
    lanes: 2,
    maxLanes: 8,
    get fastestCallMs() {
      return timer.fastest;
    },
    async call<T>(fn: string, payload: unknown): Promise<T> {
      rpcStatement(fn); // the same name check as the SQL adapters
      const { data, error } = (await timer.time(async () => await client.rpc(fn, { p: payload }))) as {
        data: unknown;
        error: PostgrestError | null;
      };
      if (error) {
        const hint =
          error.code === 'PGRST202'
            ? 'apply the migrations: supabase db push'
            : error.code === ''
              ? 'the Supabase project could not be reached'
              : (error.hint ?? undefined);
        throw new SupabaseRpcError(fn, error.code, error.message, hint ?? undefined);
      }
      return data as T;
    },
    async close() {},
  };
}
