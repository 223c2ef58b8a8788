// The production sink: inserts into public.events through Supabase with the service role
// (edge functions get SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY from the platform).
import { createClient } from 'npm:@supabase/supabase-js@2';
import type { EventRow, EventSink } from './events.ts';

export function supabaseSink(): EventSink {
  const url = Deno.env.get('SUPABASE_URL');
  const key = Deno.env.get('SUPABASE_SECRET_KEY') ?? Deno.env.get('SUPABASE_SERVICE_ROLE_KEY');
  if (!url || !key) throw new Error('SUPABASE_URL and a secret key are needed');
  const client = createClient(url, key, { auth: { persistSession: false } });
  return {
    async insert(rows: EventRow[]): Promise<number> {
      const { data, error } = await client.from('events').upsert(rows, { onConflict: 'idempotency_key', ignoreDuplicates: true }).select('id');
      if (error) throw new Error(`events insert failed: ${error.message}`);
      return data?.length ?? 0;
    },
  };
}
