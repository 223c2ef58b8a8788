// Deployed with `supabase functions deploy line-webhook --no-verify-jwt` (LINE sends no JWT).
import { handleLineWebhook } from './handler.ts';
import { SinkError } from '../_shared/events.ts';
import { serviceClient, supabaseSink } from '../_shared/supabase-sink.ts';
import { dispatcherFromEnv, supabaseCall } from '../_shared/supabase-call.ts';
import { lineReplier } from './line-reply.ts';

const channelSecret = Deno.env.get('LINE_CHANNEL_SECRET');
if (!channelSecret) throw new Error('set the LINE_CHANNEL_SECRET secret: supabase secrets set LINE_CHANNEL_SECRET=...');
const db = serviceClient();
const sink = supabaseSink(db);

/** Marks the nonce used by this webhook event, in one statement: a second event gets nothing. */
async function consumeNonce(nonce: string, eventKey: string): Promise<string | undefined> {
  const { data, error } = await db.rpc('lsd_consume_link_nonce', { p: { nonce, event_key: eventKey } });
  if (error) throw new SinkError(error.code || 'unknown');
  return (data as { member_id?: string | null } | null)?.member_id ?? undefined;
}

const dispatcher = dispatcherFromEnv(db);

// The welcome by reply (docs/reply.md) needs the channel access token; without it follows are only recorded.
const channelAccessToken = Deno.env.get('LINE_CHANNEL_ACCESS_TOKEN');
const reply = channelAccessToken
  ? {
      rpc: supabaseCall(db),
      sendReply: lineReplier({ channelAccessToken, baseUrl: Deno.env.get('LINE_API_BASE_URL') }),
    }
  : undefined;

Deno.serve((req) => handleLineWebhook(req, { channelSecret, sink, consumeNonce, dispatcher, reply }));
