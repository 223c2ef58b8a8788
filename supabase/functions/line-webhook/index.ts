// Deployed with `supabase functions deploy line-webhook --no-verify-jwt` (LINE sends no JWT).
import { createClient } from 'npm:@supabase/supabase-js@2';
import { handleLineWebhook } from './handler.ts';
import { supabaseSink } from '../_shared/supabase-sink.ts';

const channelSecret = Deno.env.get('LINE_CHANNEL_SECRET');
if (!channelSecret) throw new Error('set the LINE_CHANNEL_SECRET secret: supabase secrets set LINE_CHANNEL_SECRET=...');
const sink = supabaseSink();
const db = createClient(Deno.env.get('SUPABASE_URL')!, (Deno.env.get('SUPABASE_SECRET_KEY') ?? Deno.env.get('SUPABASE_SERVICE_ROLE_KEY'))!, { auth: { persistSession: false } });

async function resolveNonce(nonce: string): Promise<string | undefined> {
  const { data } = await db.from('line_link_nonces').select('member_id').eq('nonce', nonce).maybeSingle();
  return (data as { member_id?: string } | null)?.member_id;
}

Deno.serve((req) => handleLineWebhook(req, { channelSecret, sink, resolveNonce }));
