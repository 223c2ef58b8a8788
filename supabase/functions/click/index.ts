// Deployed with `supabase functions deploy click --no-verify-jwt`.
import { handleClick } from './handler.ts';
import { supabaseSink } from '../_shared/supabase-sink.ts';

const secret = Deno.env.get('CLICK_SIGNING_SECRET');
if (!secret) throw new Error('set the CLICK_SIGNING_SECRET secret');
const sink = supabaseSink();

Deno.serve((req) => handleClick(req, { secret, sink }));
