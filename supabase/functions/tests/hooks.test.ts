// The edge hooks under Deno, writing into the real Postgres server through the same
// schema (DATABASE_URL, given by test/edge/deno.test.ts, which migrates a fresh database).
import pg from 'npm:pg@8';
import { handleLineWebhook } from '../line-webhook/handler.ts';
import { handleShopEvents } from '../shop-events/handler.ts';
import { handleClick, signLink } from '../click/handler.ts';
import { hmacSha256, toBase64, toHex } from '../_shared/hmac.ts';
import type { EventRow, EventSink } from '../_shared/events.ts';

const url = Deno.env.get('DATABASE_URL');
if (!url) throw new Error('DATABASE_URL is not set: run these through npm test');
const pool = new pg.Pool({ connectionString: url, max: 2 });

const sink: EventSink = {
  async insert(rows: EventRow[]): Promise<number> {
    let n = 0;
    for (const r of rows) {
      const res = await pool.query(
        `insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key) values ($1, $2, $3, $4, $5, $6, $7) on conflict (idempotency_key) do nothing`,
        [r.line_user_id ?? null, r.member_id ?? null, r.type, JSON.stringify(r.properties), r.occurred_at, r.source, r.idempotency_key],
      );
      n += res.rowCount ?? 0;
    }
    return n;
  },
};

/** JSON with sorted keys: jsonb does not keep key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function assertEquals(actual: unknown, expected: unknown, message = '') {
  if (canonical(actual) !== canonical(expected)) throw new Error(`${message} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function rows(): Promise<{ type: string; line_user_id: string | null; member_id: string | null; properties: Record<string, unknown> }[]> {
  return (await pool.query('select type, line_user_id, member_id, properties from events order by id')).rows;
}

const SECRET = 'test_secret';
const USER = `U${'4af4980629'.padEnd(32, '0')}`;
async function lineRequest(body: string, signature?: string | null, secret = SECRET): Promise<Request> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const sig = signature === undefined ? toBase64(await hmacSha256(secret, body)) : signature;
  if (sig !== null) headers['x-line-signature'] = sig;
  return new Request('http://localhost/line-webhook', { method: 'POST', headers, body });
}
const followBody = (id = '01FZ74ASS536FW97EX38NKCZQK') =>
  JSON.stringify({ destination: 'xxxxxxxxxx', events: [{ type: 'follow', timestamp: 1764032400000, source: { type: 'user', userId: USER }, webhookEventId: id, deliveryContext: { isRedelivery: false }, follow: { isUnblocked: false } }] });

async function fresh() {
  await pool.query('delete from events');
}

Deno.test("LINE's documented signature test vector", async () => {
  assertEquals(toBase64(await hmacSha256('test_secret', JSON.stringify({ hello: 'world' }))), 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=');
  const res = await handleLineWebhook(await lineRequest(JSON.stringify({ hello: 'world' }), 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM='), { channelSecret: SECRET, sink });
  assertEquals(res.status, 400, 'a valid signature over a body without events');
});

Deno.test('a signed follow is recorded once, even when LINE delivers it twice', async () => {
  await fresh();
  const first = await handleLineWebhook(await lineRequest(followBody()), { channelSecret: SECRET, sink });
  assertEquals(first.status, 200);
  const again = await handleLineWebhook(await lineRequest(followBody()), { channelSecret: SECRET, sink });
  assertEquals(again.status, 200);
  assertEquals(await again.json(), { received: 1, recorded: 0 });
  assertEquals((await rows()).map((r) => [r.type, r.line_user_id, r.properties]), [['follow', USER, { unblocked: false }]]);
});

Deno.test('a tampered body, a missing signature, an oversized body and malformed JSON record nothing', async () => {
  await fresh();
  const signed = await lineRequest(followBody());
  const sig = signed.headers.get('x-line-signature')!;
  const tampered = await handleLineWebhook(await lineRequest(followBody().replace('follow', 'unfollow'), sig), { channelSecret: SECRET, sink });
  assertEquals(tampered.status, 401);
  assertEquals((await handleLineWebhook(await lineRequest(followBody(), null), { channelSecret: SECRET, sink })).status, 401);
  const big = JSON.stringify({ events: [], pad: 'x'.repeat(1024 * 1024) });
  assertEquals((await handleLineWebhook(await lineRequest(big), { channelSecret: SECRET, sink })).status, 413);
  assertEquals((await handleLineWebhook(await lineRequest('{"events": [}'), { channelSecret: SECRET, sink })).status, 400);
  assertEquals(await rows(), []);
});

Deno.test('postbacks become survey answers; account links resolve the shop\'s nonce; messages are not stored', async () => {
  await fresh();
  const body = JSON.stringify({
    events: [
      { type: 'postback', timestamp: 1764032400000, source: { type: 'user', userId: USER }, webhookEventId: 'pb-1', postback: { data: 'survey=after-purchase&q=satisfaction&a=yes' } },
      { type: 'accountLink', timestamp: 1764032400000, source: { type: 'user', userId: USER }, webhookEventId: 'al-1', link: { result: 'ok', nonce: 'n-1' } },
      { type: 'message', timestamp: 1764032400000, source: { type: 'user', userId: USER }, webhookEventId: 'm-1', message: { type: 'text', text: 'private words' } },
      { type: 'unfollow', timestamp: 1764032400000, source: { type: 'user', userId: USER }, webhookEventId: 'uf-1' },
    ],
  });
  const res = await handleLineWebhook(await lineRequest(body), { channelSecret: SECRET, sink, resolveNonce: async (n) => (n === 'n-1' ? 'M-77' : undefined) });
  assertEquals(res.status, 200);
  assertEquals((await rows()).map((r) => [r.type, r.properties]), [
    ['survey_answered', { survey: 'after-purchase', question: 'satisfaction', answer: 'yes' }],
    ['account_linked', { memberId: 'M-77' }],
    ['unfollow', {}],
  ]);
});

const SHOP_SECRET = 'shop-secret';
async function shopRequest(body: string, path = '/shop-events', headers: Record<string, string> = {}): Promise<Request> {
  return new Request(`http://localhost${path}`, { method: 'POST', headers: { 'x-shop-signature': `sha256=${toHex(await hmacSha256(SHOP_SECRET, body))}`, ...headers }, body });
}

Deno.test('shop events: signed JSON is recorded; a bad signature or a bad event records nothing; replays are one event', async () => {
  await fresh();
  const body = JSON.stringify({ events: [{ type: 'cart_abandoned', member_id: 'M-1', occurred_at: '2026-11-25T10:00:00+09:00', properties: { productName: 'スニーカー', total: 5000 }, idempotency_key: 'cart-1' }] });
  const ok = await handleShopEvents(await shopRequest(body), { sharedSecret: SHOP_SECRET, sink });
  assertEquals(ok.status, 200);
  assertEquals(await ok.json(), { recorded: 1, duplicates: 0 });
  assertEquals(await (await handleShopEvents(await shopRequest(body), { sharedSecret: SHOP_SECRET, sink })).json(), { recorded: 0, duplicates: 1 });
  const forged = new Request('http://localhost/shop-events', { method: 'POST', headers: { 'x-shop-signature': 'sha256=00' }, body });
  assertEquals((await handleShopEvents(forged, { sharedSecret: SHOP_SECRET, sink })).status, 401);
  const bad = JSON.stringify({ events: [{ type: 'purchased', member_id: 'M-2' }, { type: 'Bad Type', member_id: 'M-3' }] });
  const refused = await handleShopEvents(await shopRequest(bad), { sharedSecret: SHOP_SECRET, sink });
  assertEquals(refused.status, 400);
  assertEquals((await refused.json()).details, ['events[1].type must be lower snake case, like "cart_abandoned"']);
  assertEquals((await rows()).map((r) => [r.type, r.member_id]), [['cart_abandoned', 'M-1']]);
});

Deno.test("Shopify: an order, verified with Shopify's HMAC, becomes a purchase by member id", async () => {
  await fresh();
  const order = JSON.stringify({ id: 1001, customer: { id: 555 }, total_price: '4980', line_items: [{ title: 'トートバッグ', product_id: 9 }], created_at: '2026-11-25T10:00:00+09:00' });
  const sign = async (secret: string) => toBase64(await hmacSha256(secret, order));
  const req = async (secret: string) => new Request('http://localhost/shop-events/shopify', { method: 'POST', headers: { 'x-shopify-hmac-sha256': await sign(secret), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'wh-1' }, body: order });
  assertEquals((await handleShopEvents(await req('wrong'), { sharedSecret: SHOP_SECRET, shopifySecret: 'shpss', sink })).status, 401);
  assertEquals((await handleShopEvents(await req('shpss'), { sharedSecret: SHOP_SECRET, shopifySecret: 'shpss', sink })).status, 200);
  assertEquals((await rows()).map((r) => [r.type, r.member_id, r.properties.productName]), [['purchased', '555', 'トートバッグ']]);
});

Deno.test('click tracking: a signed link records a click and redirects; a tampered one does neither', async () => {
  await fresh();
  const to = 'https://shop.example.com/c/WELCOME10';
  const s = await signLink('click-secret', USER, 'coupon', to);
  assertEquals(s, 'c5a28a2541dc8a4ff327c88fc260d652', 'the engine signs links the same way (test/planner/links.test.ts)');
  const link = (sig: string, dest = to) => new Request(`http://localhost/click?u=${USER}&l=coupon&to=${encodeURIComponent(dest)}&s=${sig}`);
  const res = await handleClick(link(s), { secret: 'click-secret', sink });
  assertEquals([res.status, res.headers.get('location')], [302, to]);
  assertEquals((await handleClick(link(s, 'https://evil.example.com/'), { secret: 'click-secret', sink })).status, 400);
  assertEquals((await rows()).map((r) => [r.type, r.properties]), [['clicked', { link: 'coupon', url: to }]]);
});

Deno.test({ name: 'close the pool', fn: async () => await pool.end(), sanitizeOps: false, sanitizeResources: false });
