// The dispatch function as a local server for test/dispatcher/pg-cron.test.ts: the real
// handler, with the engine's SQL functions called over a direct connection (DATABASE_URL)
// instead of Supabase's HTTP API. Prints "listening on <port>" once it serves.
import pg from 'npm:pg@8';
import { handleDispatch } from '../dispatch/handler.ts';

const url = Deno.env.get('DATABASE_URL');
const secret = Deno.env.get('DISPATCH_SECRET');
if (!url || !secret) throw new Error('DATABASE_URL and DISPATCH_SECRET are needed');
const pool = new pg.Pool({ connectionString: url, max: 2 });
const call = async (fn: string, payload: Record<string, unknown>) => {
  if (!/^lsd_[a-z_]+$/.test(fn)) throw new Error(`not an engine function: ${fn}`);
  return (await pool.query(`select ${fn}($1::jsonb) as r`, [JSON.stringify(payload)])).rows[0].r;
};
const dispatcher = { call, token: Deno.env.get('GITHUB_DISPATCH_TOKEN'), apiUrl: Deno.env.get('GITHUB_API_URL') };

Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening on ${port}`) }, (req) =>
  handleDispatch(req, { secret, dispatcher }),
);
