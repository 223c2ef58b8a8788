// The production sink: inserts into public.events through Supabase with the service role
// (edge functions get SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY from the platform).
import { createClient, type SupabaseClient } from 'npm:@supabase/supabase-js@2';
import { type EventRow, type EventSink, SinkError } from './events.ts';

/** The service-role client the functions share. */
export function serviceClient(): SupabaseClient {
  const url = Deno.env.get('SUPABASE_URL');
  const key = Deno.env.get('SUPABASE_SECRET_KEY') ?? Deno.env.get('SUPABASE_SERVICE_ROLE_KEY');
  if (!url || !key) throw new Error('SUPABASE_URL and a secret key are needed');
  return createClient(url, key, { auth: { persistSession: false } });
}

export function supabaseSink(client: SupabaseClient = serviceClient()): EventSink {
  return {
    async insert(rows: EventRow[]): Promise<number> {
      const { data, error } = await client
        .from('events')
        .upsert(rows, {
          onConflict: 'idempotency_key',
          ignoreDuplicates: true,
        })
        .select('id');
      // PostgREST passes PostgreSQL's SQLSTATE as the code; its message can quote a value.
      if (error) throw new SinkError(error.code || 'unknown');
      return data?.length ?? 0;
    },
  };
}
