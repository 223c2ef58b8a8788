// Deployed with `supabase functions deploy dispatch --no-verify-jwt` (the cron job proves
// itself with DISPATCH_SECRET instead). Secrets: GITHUB_DISPATCH_TOKEN, DISPATCH_SECRET.
import { handleDispatch } from './handler.ts';
import { serviceClient } from '../_shared/supabase-sink.ts';
import { supabaseCall } from '../_shared/supabase-call.ts';

const secret = Deno.env.get('DISPATCH_SECRET');
if (!secret) throw new Error('set the DISPATCH_SECRET secret: supabase secrets set DISPATCH_SECRET=...');
const dispatcher = {
  call: supabaseCall(serviceClient()),
  token: Deno.env.get('GITHUB_DISPATCH_TOKEN'),
  apiUrl: Deno.env.get('GITHUB_API_URL'),
};

Deno.serve((req) => handleDispatch(req, { secret, dispatcher }));
