// One engine SQL function by RPC through Supabase (jsonb in, jsonb out), for the dispatcher.
import type { SupabaseClient } from 'npm:@supabase/supabase-js@2';
import type { CallSql, Dispatcher } from './github-dispatch.ts';

export function supabaseCall(client: SupabaseClient): CallSql {
  return async (fn, payload) => {
    const { data, error } = await client.rpc(fn, { p: payload });
    // PostgREST passes PostgreSQL's SQLSTATE as the code; the message may quote a value.
    if (error) throw new Error(`${fn}: SQLSTATE ${error.code || 'unknown'}`);
    return data;
  };
}

/**
 * The dispatcher the webhooks ask, when it is set up for them: with GITHUB_DISPATCH_TOKEN
 * set (the same secret the dispatch function uses); without it they only record events.
 */
export function dispatcherFromEnv(client: SupabaseClient): Dispatcher | undefined {
  const token = Deno.env.get('GITHUB_DISPATCH_TOKEN');
  if (!token) return undefined;
  return { call: supabaseCall(client), token, apiUrl: Deno.env.get('GITHUB_API_URL') };
}
