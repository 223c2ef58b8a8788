// Deployed with `supabase functions deploy shop-events --no-verify-jwt`; requests are
// authenticated by HMAC instead (x-shop-signature, or Shopify's x-shopify-hmac-sha256).
import { handleShopEvents } from './handler.ts';
import { serviceClient, supabaseSink } from '../_shared/supabase-sink.ts';
import { dispatcherFromEnv } from '../_shared/supabase-call.ts';

const sharedSecret = Deno.env.get('SHOP_EVENTS_SECRET');
if (!sharedSecret) throw new Error('set the SHOP_EVENTS_SECRET secret: supabase secrets set SHOP_EVENTS_SECRET=...');
// Once the shop sends x-shop-timestamp, SHOP_EVENTS_REQUIRE_TIMESTAMP=true refuses body-only signatures (replays).
const requireTimestamp = Deno.env.get('SHOP_EVENTS_REQUIRE_TIMESTAMP') === 'true';
const client = serviceClient();
const sink = supabaseSink(client);
const dispatcher = dispatcherFromEnv(client);

Deno.serve((req) =>
  handleShopEvents(req, {
    sharedSecret,
    requireTimestamp,
    shopifySecret: Deno.env.get('SHOPIFY_WEBHOOK_SECRET'),
    sink,
    dispatcher,
  }),
);
