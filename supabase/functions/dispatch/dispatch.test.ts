// The dispatcher under Deno (run by test/dispatcher/deno.test.ts against a fresh, migrated
// database on the real server): the dispatch function's handler, and the LINE webhook and
// shop-events asking for a start the moment they record an event a scenario reacts to
// (issue 28 item 3), with GitHub a local stand-in that records each request.
import pg from 'npm:pg@8';
import { handleDispatch } from './handler.ts';
import { handleLineWebhook } from '../line-webhook/handler.ts';
import { handleShopEvents } from '../shop-events/handler.ts';
import { hmacSha256, toBase64, toHex } from '../_shared/hmac.ts';
import type { EventRow, EventSink } from '../_shared/events.ts';
import type { Dispatcher } from '../_shared/github-dispatch.ts';

const url = Deno.env.get('DATABASE_URL');
if (!url) throw new Error('DATABASE_URL is not set: run these through npm test');
const pool = new pg.Pool({ connectionString: url, max: 2 });
const call = async (fn: string, payload: Record<string, unknown>) =>
  (await pool.query(`select ${fn}($1::jsonb) as r`, [JSON.stringify(payload)])).rows[0].r;

const sink: EventSink = {
  async insert(rows: EventRow[]): Promise<number> {
    let n = 0;
    for (const r of rows) {
      const res = await pool.query(
        `insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (idempotency_key) do nothing`,
        [
          r.line_user_id ?? null,
          r.member_id ?? null,
          r.type,
          JSON.stringify(r.properties),
          r.occurred_at,
          r.source,
          r.idempotency_key,
        ],
      );
      n += res.rowCount ?? 0;
    }
    return n;
  },
};

function assertEquals(actual: unknown, expected: unknown, message = '') {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message} expected ${e}, got ${a}`);
}

interface Seen {
  path: string;
  authorization: string | null;
  body: unknown;
}

/** A GitHub stand-in answering 204 to each workflow dispatch, recording the requests. */
function fakeGitHub(): { url: string; seen: Seen[]; close: () => Promise<void> } {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: () => {} }, async (req) => {
    seen.push({
      path: new URL(req.url).pathname,
      authorization: req.headers.get('authorization'),
      body: await req.json(),
    });
    return new Response(null, { status: 204 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

/** A fresh state: a follow scenario and a cart scenario in force, the dispatcher set up. */
async function fresh() {
  await pool.query(
    'delete from events; delete from lsd_dispatches; delete from scenario_versions; delete from scenarios',
  );
  for (const [id, trigger] of [
    ['welcome', { type: 'follow' }],
    ['cart', { type: 'event', event: 'cart_abandoned' }],
  ] as const) {
    await pool.query(
      `insert into scenarios (scenario_id, current_hash, version, activated_at) values ($1, 'h', 1, now())`,
      [id],
    );
    await pool.query(`insert into scenario_versions (scenario_id, hash, version, definition) values ($1, 'h', 1, $2)`, [
      id,
      JSON.stringify({ id, entry: { trigger }, steps: [] }),
    ]);
  }
  await call('lsd_dispatcher_setup', { owner: 'my-shop', repo: 'line-scenarios', workflow: 'step-delivery.yml' });
}

const TOKEN = 'github_pat_deno';
const dispatcherAt = (apiUrl: string): Dispatcher => ({ call, token: TOKEN, apiUrl });
const starts = async () =>
  (await pool.query('select origin, reasons, status, http_status from lsd_dispatches order by id')).rows;

const SECRET = 'line_secret';
const USER = `U${'4af4980629'.padEnd(32, '0')}`;
async function lineRequest(type: 'follow' | 'unfollow', id: string): Promise<Request> {
  const body = JSON.stringify({
    destination: 'x',
    events: [
      {
        type,
        timestamp: Date.now(),
        source: { type: 'user', userId: USER },
        webhookEventId: id,
        deliveryContext: { isRedelivery: false },
        ...(type === 'follow' ? { follow: { isUnblocked: false } } : {}),
      },
    ],
  });
  const headers = { 'content-type': 'application/json', 'x-line-signature': toBase64(await hmacSha256(SECRET, body)) };
  return new Request('http://localhost/line-webhook', { method: 'POST', headers, body });
}

Deno.test('the dispatch function: POST only, with the cron job secret; it answers the decision', async () => {
  await fresh();
  const github = fakeGitHub();
  try {
    const deps = { secret: 'cron-secret', dispatcher: dispatcherAt(github.url) };
    assertEquals((await handleDispatch(new Request('http://localhost/dispatch'), deps)).status, 405);
    const stranger = await handleDispatch(new Request('http://localhost/dispatch', { method: 'POST' }), deps);
    assertEquals(stranger.status, 401);
    const post = () =>
      handleDispatch(
        new Request('http://localhost/dispatch', { method: 'POST', headers: { 'x-dispatch-secret': 'cron-secret' } }),
        deps,
      );
    const quiet = await post();
    assertEquals(quiet.status, 200);
    assertEquals((await quiet.json()).wait_reason, 'nothing is due');
    await pool.query(`insert into events (line_user_id, type) values ($1, 'follow')`, [USER]);
    const due = await (await post()).json();
    assertEquals([due.start, due.reasons, due.github.outcome], [true, ['events: follow'], 'started']);
    assertEquals(github.seen, [
      {
        path: '/repos/my-shop/line-scenarios/actions/workflows/step-delivery.yml/dispatches',
        authorization: `Bearer ${TOKEN}`,
        body: { ref: 'main', inputs: { 'run-mode': 'send' } },
      },
    ]);
  } finally {
    await github.close();
  }
});

Deno.test('a follow at the LINE webhook asks for a start at once; an unfollow no scenario reads does not', async () => {
  await fresh();
  const github = fakeGitHub();
  try {
    const deps = { channelSecret: SECRET, sink, dispatcher: dispatcherAt(github.url) };
    const res = await handleLineWebhook(await lineRequest('follow', '01FZ74ASS536FW97EX38NKCZQA'), deps);
    assertEquals(res.status, 200);
    assertEquals(github.seen.length, 1, 'GitHub asked once');
    assertEquals(await starts(), [
      { origin: 'line-webhook', reasons: ['events: follow'], status: 'started', http_status: 204 },
    ]);
    // Taken in by the run it started; then an unfollow (no scenario starts or waits on it).
    await pool.query(`update events set status = 'done'; delete from lsd_dispatches`);
    const un = await handleLineWebhook(await lineRequest('unfollow', '01FZ74ASS536FW97EX38NKCZQB'), deps);
    assertEquals(un.status, 200);
    assertEquals(github.seen.length, 1, 'no second start');
    assertEquals(await starts(), []);
  } finally {
    await github.close();
  }
});

Deno.test(
  'an abandoned cart at shop-events asks for a start; without a dispatcher the events are only recorded',
  async () => {
    await fresh();
    const github = fakeGitHub();
    try {
      const body = JSON.stringify({
        type: 'cart_abandoned',
        line_user_id: USER,
        properties: { total: 5000 },
        idempotency_key: 'c-1',
      });
      const request = async () =>
        new Request('http://localhost/shop-events', {
          method: 'POST',
          headers: { 'x-shop-signature': `sha256=${toHex(await hmacSha256('shop_secret', body))}` },
          body,
        });
      const without = await handleShopEvents(await request(), { sharedSecret: 'shop_secret', sink });
      assertEquals(without.status, 200);
      assertEquals(github.seen.length, 0);
      await pool.query('delete from events');
      const res = await handleShopEvents(await request(), {
        sharedSecret: 'shop_secret',
        sink,
        dispatcher: dispatcherAt(github.url),
      });
      assertEquals(res.status, 200);
      assertEquals(github.seen.length, 1);
      assertEquals(await starts(), [
        { origin: 'shop-events', reasons: ['events: cart_abandoned'], status: 'started', http_status: 204 },
      ]);
    } finally {
      await github.close();
    }
  },
);
