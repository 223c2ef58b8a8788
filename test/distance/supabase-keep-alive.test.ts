// Supabase's HTTP API far away (issue 25 item 3): the adapter's calls go through supabase-js
// and Node's fetch, which keeps connections alive and does not queue one request behind
// another. So a tick's lanes, the sender's claims and its writes are in flight at once, each
// waiting one round trip, and later calls reuse the connections opened (no new TCP and TLS
// set-up, each several round trips away). Checked against a stand-in of
// the RPC endpoint that answers after 50 ms and counts connections and requests in flight.
import { afterAll, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openSupabase } from '../../src/store/supabase.js';

const KEY = 'sb_secret_test';
let server: Server | undefined;
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
});

async function slowEndpoint(delayMs: number) {
  const seen = { connections: 0, inFlight: 0, mostInFlight: 0, requests: 0 };
  server = createServer((req, res) => {
    seen.requests += 1;
    seen.inFlight += 1;
    seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        seen.inFlight -= 1;
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ ok: true }));
      }, delayMs),
    );
  });
  server.on('connection', () => (seen.connections += 1));
  await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('eight calls at once are eight requests in flight; later rounds reuse the connections', async () => {
  const { url, seen } = await slowEndpoint(50);
  const rpc = openSupabase(url, KEY);
  const round = () => Promise.all(Array.from({ length: 8 }, () => rpc.call('lsd_schema_info', {})));
  expect(await round()).toEqual(Array.from({ length: 8 }, () => ({ ok: true })));
  expect(seen.mostInFlight).toBe(8);
  expect(seen.connections).toBeLessThanOrEqual(8);
  for (let i = 1; i < 10; i++) await round();
  expect(seen.requests).toBe(80);
  // Kept alive: 80 requests over at most 16 connections. (A round that starts the moment the
  // last one's answers are read finds some sockets not yet handed back, and opens others:
  // measured 8, 12, 16, then 16 connections for every later round.)
  expect(seen.connections).toBeLessThanOrEqual(16);
  // The adapter's measure of the round trip, which sizes a tick's lanes, saw the 50 ms.
  expect(rpc.fastestCallMs).toBeGreaterThanOrEqual(45);
  // Supabase's planning lanes: up to 8 at once, within the API's pool on the smallest instance.
  expect(rpc.maxLanes).toBe(8);
});
