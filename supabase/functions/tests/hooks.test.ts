// The edge hooks under Deno, writing into the real Postgres server through the same
// schema (DATABASE_URL, given by test/edge/deno.test.ts, which migrates a fresh database).
import pg from 'npm:pg@8';
import { handleLineWebhook } from '../line-webhook/handler.ts';
import { handleShopEvents, type ShopEventsDeps } from '../shop-events/handler.ts';
import { handleClick, signLink } from '../click/handler.ts';
import { hmacSha256, toBase64, toHex } from '../_shared/hmac.ts';
import { SinkError, type EventRow, type EventSink } from '../_shared/events.ts';
import { shopSignature } from '../_shared/shop-signature.ts';

const url = Deno.env.get('DATABASE_URL');
if (!url) throw new Error('DATABASE_URL is not set: run these through npm test');
const pool = new pg.Pool({ connectionString: url, max: 2 });

const sink: EventSink = {
  async insert(rows: EventRow[]): Promise<number> {
    // One statement for all rows, as the Supabase sink's upsert; errors keep only the SQLSTATE.
    const values = rows.map((_, i) => `(${Array.from({ length: 9 }, (_, k) => `$${i * 9 + k + 1}`).join(', ')})`);
    const params = rows.flatMap((r) => [
      r.line_user_id ?? null,
      r.member_id ?? null,
      r.type,
      JSON.stringify(r.properties),
      r.occurred_at,
      r.source,
      r.idempotency_key,
      r.status ?? 'new',
      r.status_reason ?? null,
    ]);
    try {
      const res = await pool.query(
        `insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key, status, status_reason) values ${values.join(', ')} on conflict (idempotency_key) do nothing`,
        params,
      );
      return res.rowCount ?? 0;
    } catch (error) {
      throw new SinkError((error as { code?: string }).code ?? 'unknown');
    }
  },
};

/** JSON with sorted keys: jsonb does not keep key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

function assertEquals(actual: unknown, expected: unknown, message = '') {
  if (canonical(actual) !== canonical(expected))
    throw new Error(`${message} expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function rows(): Promise<
  { type: string; line_user_id: string | null; member_id: string | null; properties: Record<string, unknown> }[]
> {
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
  JSON.stringify({
    destination: 'xxxxxxxxxx',
    events: [
      {
        type: 'follow',
        timestamp: 1764032400000,
        source: { type: 'user', userId: USER },
        webhookEventId: id,
        deliveryContext: { isRedelivery: false },
        follow: { isUnblocked: false },
      },
    ],
  });

async function fresh() {
  await pool.query('delete from events');
}

Deno.test("LINE's documented signature test vector", async () => {
  assertEquals(
    toBase64(await hmacSha256('test_secret', JSON.stringify({ hello: 'world' }))),
    't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=',
  );
  const res = await handleLineWebhook(
    await lineRequest(JSON.stringify({ hello: 'world' }), 't7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM='),
    { channelSecret: SECRET, sink },
  );
  assertEquals(res.status, 400, 'a valid signature over a body without events');
});

Deno.test('a signed follow is recorded once, even when LINE delivers it twice', async () => {
  await fresh();
  const first = await handleLineWebhook(await lineRequest(followBody()), { channelSecret: SECRET, sink });
  assertEquals(first.status, 200);
  const again = await handleLineWebhook(await lineRequest(followBody()), { channelSecret: SECRET, sink });
  assertEquals(again.status, 200);
  assertEquals(await again.json(), { received: 1, recorded: 0, duplicates: 1, set_aside: 0, refused: 0 });
  assertEquals(
    (await rows()).map((r) => [r.type, r.line_user_id, r.properties]),
    [['follow', USER, { unblocked: false }]],
  );
});

Deno.test('a tampered body, a missing signature, an oversized body and malformed JSON record nothing', async () => {
  await fresh();
  const signed = await lineRequest(followBody());
  const sig = signed.headers.get('x-line-signature')!;
  const tampered = await handleLineWebhook(await lineRequest(followBody().replace('follow', 'unfollow'), sig), {
    channelSecret: SECRET,
    sink,
  });
  assertEquals(tampered.status, 401);
  assertEquals(
    (await handleLineWebhook(await lineRequest(followBody(), null), { channelSecret: SECRET, sink })).status,
    401,
  );
  const big = JSON.stringify({ events: [], pad: 'x'.repeat(1024 * 1024) });
  assertEquals((await handleLineWebhook(await lineRequest(big), { channelSecret: SECRET, sink })).status, 413);
  assertEquals(
    (await handleLineWebhook(await lineRequest('{"events": [}'), { channelSecret: SECRET, sink })).status,
    400,
  );
  assertEquals(await rows(), []);
});

/** The production lookup's SQL (line-webhook/index.ts calls it through Supabase's rpc). */
async function consumeNonce(nonce: string, eventKey: string): Promise<string | undefined> {
  const res = await pool.query('select lsd_consume_link_nonce($1::jsonb) as r', [
    JSON.stringify({ nonce, event_key: eventKey }),
  ]);
  return res.rows[0].r.member_id ?? undefined;
}

async function shopIssuesNonce(nonce: string, memberId: string) {
  await pool.query('insert into line_link_nonces (nonce, member_id) values ($1, $2)', [nonce, memberId]);
}

Deno.test(
  "postbacks become survey answers; account links resolve the shop's nonce; messages are not stored",
  async () => {
    await fresh();
    await shopIssuesNonce('n-1', 'M-77');
    const body = JSON.stringify({
      events: [
        {
          type: 'postback',
          timestamp: 1764032400000,
          source: { type: 'user', userId: USER },
          webhookEventId: 'pb-1',
          postback: { data: 'survey=after-purchase&q=satisfaction&a=yes' },
        },
        {
          type: 'accountLink',
          timestamp: 1764032400000,
          source: { type: 'user', userId: USER },
          webhookEventId: 'al-1',
          link: { result: 'ok', nonce: 'n-1' },
        },
        {
          type: 'message',
          timestamp: 1764032400000,
          source: { type: 'user', userId: USER },
          webhookEventId: 'm-1',
          message: { type: 'text', text: 'private words' },
        },
        { type: 'unfollow', timestamp: 1764032400000, source: { type: 'user', userId: USER }, webhookEventId: 'uf-1' },
      ],
    });
    const res = await handleLineWebhook(await lineRequest(body), { channelSecret: SECRET, sink, consumeNonce });
    assertEquals(res.status, 200);
    assertEquals(
      (await rows()).map((r) => [r.type, r.properties]),
      [
        ['survey_answered', { survey: 'after-purchase', question: 'satisfaction', answer: 'yes' }],
        ['account_linked', { memberId: 'M-77' }],
        ['unfollow', {}],
      ],
    );
  },
);

const SHOP_SECRET = 'shop-secret';
async function shopRequest(
  body: string,
  path = '/shop-events',
  headers: Record<string, string> = {},
): Promise<Request> {
  return new Request(`http://localhost${path}`, {
    method: 'POST',
    headers: { 'x-shop-signature': `sha256=${toHex(await hmacSha256(SHOP_SECRET, body))}`, ...headers },
    body,
  });
}
/** The clock of the shop tests: occurred_at may be up to a day after it. */
const NOW = Date.parse('2026-11-25T12:00:00Z');
const shopDeps: ShopEventsDeps = { sharedSecret: SHOP_SECRET, sink, now: () => NOW };

Deno.test('shop events: signed JSON is recorded; a bad signature records nothing; replays are one event', async () => {
  await fresh();
  const body = JSON.stringify({
    events: [
      {
        type: 'cart_abandoned',
        member_id: 'M-1',
        occurred_at: '2026-11-25T10:00:00+09:00',
        properties: { productName: 'スニーカー', total: 5000 },
        idempotency_key: 'cart-1',
      },
    ],
  });
  const ok = await handleShopEvents(await shopRequest(body), shopDeps);
  assertEquals(ok.status, 200);
  assertEquals(await ok.json(), { recorded: 1, duplicates: 0, refused: [] });
  assertEquals(await (await handleShopEvents(await shopRequest(body), shopDeps)).json(), {
    recorded: 0,
    duplicates: 1,
    refused: [],
  });
  const forged = new Request('http://localhost/shop-events', {
    method: 'POST',
    headers: { 'x-shop-signature': 'sha256=00' },
    body,
  });
  assertEquals((await handleShopEvents(forged, shopDeps)).status, 401);
  assertEquals(
    (await rows()).map((r) => [r.type, r.member_id]),
    [['cart_abandoned', 'M-1']],
  );
});

Deno.test("Shopify: an order, verified with Shopify's HMAC, becomes a purchase by member id", async () => {
  await fresh();
  const order = JSON.stringify({
    id: 1001,
    order_number: 1001,
    financial_status: 'paid',
    customer: { id: 555 },
    total_price: '4980',
    line_items: [{ title: 'トートバッグ', product_id: 9 }],
    created_at: '2026-11-25T10:00:00+09:00',
  });
  const sign = async (secret: string) => toBase64(await hmacSha256(secret, order));
  const req = async (secret: string) =>
    new Request('http://localhost/shop-events/shopify', {
      method: 'POST',
      headers: {
        'x-shopify-hmac-sha256': await sign(secret),
        'x-shopify-topic': 'orders/create',
        'x-shopify-webhook-id': 'wh-1',
      },
      body: order,
    });
  assertEquals(
    (
      await handleShopEvents(await req('wrong'), {
        sharedSecret: SHOP_SECRET,
        shopifySecret: 'shpss',
        sink,
        now: () => NOW,
      })
    ).status,
    401,
  );
  assertEquals(
    (
      await handleShopEvents(await req('shpss'), {
        sharedSecret: SHOP_SECRET,
        shopifySecret: 'shpss',
        sink,
        now: () => NOW,
      })
    ).status,
    200,
  );
  assertEquals(
    (await rows()).map((r) => [r.type, r.member_id, r.properties.productName]),
    [['purchased', '555', 'トートバッグ']],
  );
});

Deno.test('click tracking: a signed link records a click and redirects; a tampered one does neither', async () => {
  await fresh();
  const to = 'https://shop.example.com/c/WELCOME10';
  const s = await signLink('click-secret', USER, 'coupon', to);
  assertEquals(
    s,
    'c5a28a2541dc8a4ff327c88fc260d652',
    'the engine signs links the same way (test/planner/links.test.ts)',
  );
  const link = (sig: string, dest = to) =>
    new Request(`http://localhost/click?u=${USER}&l=coupon&to=${encodeURIComponent(dest)}&s=${sig}`);
  const res = await handleClick(link(s), { secret: 'click-secret', sink });
  assertEquals([res.status, res.headers.get('location')], [302, to]);
  assertEquals((await handleClick(link(s, 'https://evil.example.com/'), { secret: 'click-secret', sink })).status, 400);
  const long = `${to}?pad=${'x'.repeat(4000)}`;
  const redirected = await handleClick(link(await signLink('click-secret', USER, 'coupon', long), long), {
    secret: 'click-secret',
    sink,
  });
  assertEquals(redirected.status, 302, 'a signed link out of bounds still redirects');
  assertEquals(
    (await rows()).map((r) => [r.type, r.properties]),
    [['clicked', { link: 'coupon', url: to }]],
  );
});

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  type: 'purchased',
  member_id: `M-${i}`,
  occurred_at: '2026-11-25T10:00:00+09:00',
  properties: { orderId: `o-${i}` },
  idempotency_key: `k-${i}`,
  ...extra,
});
const recordedMembers = async () => (await rows()).map((r) => r.member_id);

Deno.test(
  'shop events: a request with good and bad events records the good ones and names the bad ones by index',
  async () => {
    await fresh();
    const body = JSON.stringify({
      events: [
        event(1),
        { type: 'Bad Type', member_id: 'M-9' },
        event(2),
        'not an event',
        { type: 'purchased' },
        event(3),
      ],
    });
    const res = await handleShopEvents(await shopRequest(body), shopDeps);
    assertEquals(res.status, 207, 'partial success');
    assertEquals(await res.json(), {
      recorded: 3,
      duplicates: 0,
      refused: [
        { index: 1, reason: 'events[1].type must be lower snake case, like "cart_abandoned"' },
        { index: 3, reason: 'events[3] must be a JSON object' },
        { index: 4, reason: 'events[4]: give line_user_id or member_id' },
      ],
    });
    assertEquals(await recordedMembers(), ['M-1', 'M-2', 'M-3']);
    // Sent again: the good ones are duplicates (taken), so still a partial success.
    assertEquals((await handleShopEvents(await shopRequest(body), shopDeps)).status, 207);
    const none = await handleShopEvents(
      await shopRequest(JSON.stringify({ events: [{ type: 'Bad', member_id: 'M-1' }] })),
      shopDeps,
    );
    assertEquals(none.status, 400, 'nothing could be recorded');
    const answer = await none.json();
    assertEquals(
      [answer.recorded, answer.duplicates, answer.refused.map((r: { index: number }) => r.index)],
      [0, 0, [0]],
    );
    const single = await handleShopEvents(
      await shopRequest(JSON.stringify({ type: 'purchased', member_id: 'M-4', occurred_at: 'yesterday' })),
      shopDeps,
    );
    assertEquals(
      [single.status, (await single.json()).refused[0].reason],
      [400, 'the event.occurred_at must be an ISO date string with a time zone, like "2026-11-25T10:00:00+09:00"'],
    );
    assertEquals(await recordedMembers(), ['M-1', 'M-2', 'M-3']);
  },
);

Deno.test('shop events: account_linked, follow and unfollow come from the LINE webhook only', async () => {
  await fresh();
  const body = JSON.stringify({
    events: [
      { type: 'account_linked', line_user_id: USER, properties: { memberId: 'M-1' } },
      { type: 'unfollow', line_user_id: USER },
      { type: 'follow', member_id: 'M-1' },
      { type: 'profile_updated', member_id: 'M-1', properties: { attributes: { region: 'tokyo' } } },
    ],
  });
  const res = await handleShopEvents(await shopRequest(body), shopDeps);
  assertEquals(res.status, 207);
  const answer = await res.json();
  assertEquals(
    answer.refused.map((r: { index: number }) => r.index),
    [0, 1, 2],
  );
  assertEquals(
    answer.refused[0].reason,
    'events[0].type "account_linked" comes from the LINE webhook only (it says who a LINE user is or whether they follow): not taken from a shop',
  );
  assertEquals(
    (await rows()).map((r) => r.type),
    ['profile_updated'],
  );
});

Deno.test('shop events: the properties ingest reads for a type are checked as ingest checks them', async () => {
  await fresh();
  const body = JSON.stringify({
    events: [
      { type: 'list_added', member_id: 'M-1', properties: { list: 'vip' } },
      { type: 'list_added', member_id: 'M-2', properties: { name: 'vip' } },
      { type: 'profile_updated', member_id: 'M-3', properties: { attributes: { address: { city: 'secret-value' } } } },
      { type: 'survey_answered', member_id: 'M-4', properties: { question: 'size', answer: [['secret-value']] } },
      { type: 'survey_answered', member_id: 'M-5', properties: { survey: 'shop-own' } },
    ],
  });
  const res = await handleShopEvents(await shopRequest(body), shopDeps);
  assertEquals(res.status, 207);
  const text = await res.text();
  assertEquals(JSON.parse(text).refused, [
    { index: 1, reason: 'events[1]: list_added: list is missing' },
    {
      index: 2,
      reason:
        'events[2]: profile_updated: attributes.address must be a string, a number, true/false, null or a list of those, got an object',
    },
    {
      index: 3,
      reason:
        'events[3]: survey_answered: answer must be a string, a number, true/false or a list of those, got a list holding a list or an object',
    },
  ]);
  assertEquals(await recordedMembers(), ['M-1', 'M-5']);
  if (text.includes('secret-value')) throw new Error('the answer quotes a property value');
});

const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

Deno.test(
  'shop events: bounds on size, depth, keys, strings and occurred_at refuse the event that breaks them, and only it',
  async () => {
    await fresh();
    const cases: [Record<string, unknown>, string | null][] = [
      [{ properties: nest(8) }, null], // the properties object and 7 levels inside it: 8
      [
        { properties: nest(9) },
        'events[1].properties.a.a.a.a.a.a.a.a nests deeper than 8 levels (counting events[1].properties as level 1)',
      ],
      [
        { properties: { list: [[[[[[[[1]]]]]]]] } },
        'events[2].properties.list[0][0][0][0][0][0][0] nests deeper than 8 levels (counting events[2].properties as level 1)',
      ],
      [{ properties: keys(100) }, null],
      [
        { properties: { ...keys(99), more: { k: 1 } } },
        'events[4].properties has more than 100 keys (counted at every level)',
      ],
      [{ properties: { note: 'あ'.repeat(4000), emoji: '😀'.repeat(4000) } }, null], // characters, not UTF-16 units
      [
        { properties: { note: 'secret-value'.repeat(334) } },
        'events[6].properties.note is longer than 4000 characters',
      ],
      [
        { properties: { 'someone@example.com': 'x'.repeat(4001) } },
        'events[7].properties[a key not shown] is longer than 4000 characters',
      ],
      [
        { properties: { note: 'secret-value\u0000' } },
        'events[8].properties.note contains a NUL character (\\u0000), which PostgreSQL cannot store',
      ],
      [
        { properties: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`p${i}`, 'y'.repeat(3900)])) },
        'events[9] is 66562 bytes of JSON; at most 65536 bytes per event',
      ],
      [{ pad: 'secret-value'.repeat(6000) }, 'events[10] is 72147 bytes of JSON; at most 65536 bytes per event'],
      [
        { occurred_at: '1999-12-31T23:59:59Z' },
        'events[11].occurred_at is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)',
      ],
      [
        { occurred_at: '0001-01-01T00:00:00Z' },
        'events[12].occurred_at is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)',
      ],
      [
        { occurred_at: 'infinity' },
        'events[13].occurred_at must be an ISO date string with a time zone, like "2026-11-25T10:00:00+09:00"',
      ],
      [
        { occurred_at: 1795600800 },
        'events[14].occurred_at must be an ISO date string with a time zone, like "2026-11-25T10:00:00+09:00" (numbers are not taken: seconds, milliseconds and nanoseconds look alike)',
      ],
      [
        { occurred_at: '2026-11-26T13:00:00Z' },
        'events[15].occurred_at is more than a day after now: check the clock, the time zone or the unit',
      ],
      [{ occurred_at: '2026-11-26T11:00:00Z' }, null], // 23 hours ahead
      [
        { occurred_at: '2026-11-25T10:00:00' },
        'events[17].occurred_at must be an ISO date string with a time zone, like "2026-11-25T10:00:00+09:00"',
      ],
      [{ member_id: 1.5 }, 'events[18].member_id must be a string or a whole number'],
      [{ idempotency_key: 'k'.repeat(201) }, 'events[19].idempotency_key must be a string of 1 to 200 characters'],
    ];
    const events = cases.map(([extra], i) => event(i, extra));
    // Nested 100,000 levels deep (JSON written by hand): refused, not a stack overflow.
    const deep = `{"type":"purchased","member_id":"M-deep","properties":{"d":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const body = `{"events":[${events.map((e) => JSON.stringify(e)).join(',')},${deep}]}`;
    const res = await handleShopEvents(await shopRequest(body), shopDeps);
    assertEquals(res.status, 207);
    const text = await res.text();
    const answer = JSON.parse(text);
    const expected = cases.flatMap(([, reason], index) => (reason ? [{ index, reason }] : []));
    expected.push({
      index: cases.length,
      reason: `events[${cases.length}].properties.d[0][0][0][0][0][0][0] nests deeper than 8 levels (counting events[${cases.length}].properties as level 1)`,
    });
    assertEquals(answer.refused, expected);
    assertEquals(answer.recorded, cases.filter(([, reason]) => !reason).length);
    assertEquals(await recordedMembers(), ['M-0', 'M-3', 'M-5', 'M-16']);
    if (text.includes('secret-value') || text.includes('someone@'))
      throw new Error('the answer quotes a property value or key');
  },
);

Deno.test(
  'shop events: a row the database refuses is refused alone; a database that does not answer is a 503 to retry',
  async () => {
    await fresh();
    const picky: EventSink = {
      insert: (batch) =>
        batch.some((r) => r.properties.poison) ? Promise.reject(new SinkError('22P05')) : sink.insert(batch),
    };
    const body = JSON.stringify({ events: [event(1), event(2, { properties: { poison: true } }), event(3)] });
    const res = await handleShopEvents(await shopRequest(body), { ...shopDeps, sink: picky });
    assertEquals(
      [res.status, await res.json()],
      [
        207,
        { recorded: 2, duplicates: 0, refused: [{ index: 1, reason: 'the database refused it (SQLSTATE 22P05)' }] },
      ],
    );
    assertEquals(await recordedMembers(), ['M-1', 'M-3']);
    const down: EventSink = { insert: () => Promise.reject(new SinkError('08006')) };
    assertEquals(
      (await handleShopEvents(await shopRequest(JSON.stringify({ events: [event(4)] })), { ...shopDeps, sink: down }))
        .status,
      503,
    );
    const unreachable: EventSink = { insert: () => Promise.reject(new TypeError('fetch failed')) };
    assertEquals(
      (
        await handleShopEvents(await shopRequest(JSON.stringify({ events: [event(4)] })), {
          ...shopDeps,
          sink: unreachable,
        })
      ).status,
      503,
    );
  },
);

async function timedRequest(
  body: string,
  timestamp: string,
  signedTimestamp: string | null = timestamp,
): Promise<Request> {
  const signature = await shopSignature(SHOP_SECRET, new TextEncoder().encode(body), signedTimestamp);
  return new Request('http://localhost/shop-events', {
    method: 'POST',
    headers: { 'x-shop-signature': signature, 'x-shop-timestamp': timestamp },
    body,
  });
}

Deno.test(
  'shop events: a timestamp under the signature is taken within 5 minutes of now, refused stale or ahead; without one the body-only signature still works',
  async () => {
    await fresh();
    const body = JSON.stringify({
      events: [{ type: 'cart_abandoned', member_id: 'M-1', idempotency_key: 'cart-123' }],
    });
    // The README's openssl example: printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SHOP_EVENTS_SECRET"
    assertEquals(
      await shopSignature(SHOP_SECRET, new TextEncoder().encode(body), '1795568400'),
      'sha256=93b8106e1a8c4913dcd3f128bd59626138ad74c604890051e16ccea2248522c1',
    );
    const seconds = NOW / 1000;
    const status = async (req: Request, deps = shopDeps) => (await handleShopEvents(req, deps)).status;
    const stale = await handleShopEvents(await timedRequest(body, String(seconds - 301)), shopDeps);
    assertEquals(
      [stale.status, (await stale.json()).error],
      [401, 'x-shop-timestamp is 301 s old; at most 300 s either way (a replay, or a clock to fix)'],
    );
    assertEquals(await status(await timedRequest(body, String(seconds + 301))), 401, 'ahead');
    assertEquals(await status(await timedRequest(body, 'soon')), 401, 'not digits');
    assertEquals(
      await status(await timedRequest(body, String(seconds), null)),
      401,
      'a body-only signature sent with a timestamp',
    );
    const stripped = await timedRequest(body, String(seconds));
    stripped.headers.delete('x-shop-timestamp');
    assertEquals(await status(stripped), 401, 'a timestamped signature with the timestamp removed');
    assertEquals(await status(await shopRequest(body), { ...shopDeps, requireTimestamp: true }), 401, 'required');
    assertEquals(await rows(), []);
    assertEquals(await status(await timedRequest(body, String(seconds - 299))), 200, 'fresh');
    assertEquals(await status(await timedRequest(body, String(seconds + 60))), 200, 'a shop clock a minute ahead');
    assertEquals(await status(await shopRequest(body)), 200, 'missing: the body-only signature');
    assertEquals((await rows()).length, 1, 'the same idempotency key each time');
  },
);

async function shopifyRequest(topic: string, body: unknown, webhookId: string = crypto.randomUUID()): Promise<Request> {
  const text = JSON.stringify(body);
  const headers = {
    'x-shopify-hmac-sha256': toBase64(await hmacSha256('shpss', text)),
    'x-shopify-topic': topic,
    'x-shopify-webhook-id': webhookId,
  };
  return new Request('http://localhost/shop-events/shopify', { method: 'POST', headers, body: text });
}

Deno.test(
  'Shopify: the unsigned topic header must match the body; a replay with another webhook id is one event',
  async () => {
    await fresh();
    const deps = { ...shopDeps, shopifySecret: 'shpss' };
    const items = [{ title: 'トートバッグ', product_id: 9 }];
    const order = {
      id: 1001,
      order_number: 1001,
      financial_status: 'paid',
      token: 't-1',
      cart_token: 'c-1',
      customer: { id: 555 },
      total_price: '4980',
      line_items: items,
      created_at: '2026-11-25T10:00:00+09:00',
    };
    const checkout = {
      id: 77,
      token: 't-2',
      cart_token: 'c-2',
      abandoned_checkout_url: 'https://shop.example.com/c/77',
      customer: { id: 555 },
      total_price: '4980',
      line_items: items,
    };
    const fulfillment = { id: 5, order_id: 1001, tracking_number: 'T-1', status: 'success', line_items: items };
    for (const [topic, body] of [
      ['checkouts/create', order],
      ['orders/create', checkout],
      ['orders/create', fulfillment],
      ['fulfillments/create', order],
    ] as const) {
      const res = await handleShopEvents(await shopifyRequest(topic, body), deps);
      assertEquals(res.status, 400, `${topic} with another topic's body`);
      assertEquals((await res.json()).refused[0].reason.startsWith('the body is not '), true);
    }
    assertEquals(await rows(), []);
    assertEquals((await handleShopEvents(await shopifyRequest('orders/create', order, 'wh-1'), deps)).status, 200);
    assertEquals(await (await handleShopEvents(await shopifyRequest('orders/create', order, 'wh-2'), deps)).json(), {
      recorded: 0,
      duplicates: 1,
      refused: [],
    });
    assertEquals((await handleShopEvents(await shopifyRequest('checkouts/create', checkout), deps)).status, 200);
    assertEquals(
      (await rows()).map((r) => [r.type, r.member_id]),
      [
        ['purchased', '555'],
        ['cart_abandoned', '555'],
      ],
    );
  },
);

const linkEvent = (webhookEventId: string, nonce: string) => ({
  type: 'accountLink',
  timestamp: 1764032400000,
  source: { type: 'user', userId: USER },
  webhookEventId,
  link: { result: 'ok', nonce },
});

Deno.test(
  'a link nonce links once: a second event with it records nothing and is answered 200; a redelivery after a failed insert still links',
  async () => {
    await fresh();
    await shopIssuesNonce('n-2', 'M-88');
    const send = async (events: unknown[], deps: { sink?: EventSink } = {}) =>
      await handleLineWebhook(await lineRequest(JSON.stringify({ events })), {
        channelSecret: SECRET,
        sink,
        consumeNonce,
        ...deps,
      });
    // The first attempt consumes the nonce but its insert fails: LINE redelivers the same event.
    const down: EventSink = { insert: () => Promise.reject(new SinkError('08006')) };
    assertEquals((await send([linkEvent('al-1', 'n-2')], { sink: down })).status, 503);
    assertEquals((await send([linkEvent('al-1', 'n-2')])).status, 200);
    const second = await send([linkEvent('al-2', 'n-2')]);
    assertEquals(
      [second.status, await second.json()],
      [200, { received: 1, recorded: 0, duplicates: 0, set_aside: 0, refused: 0 }],
    );
    assertEquals(await (await send([linkEvent('al-1', 'n-2')])).json(), {
      received: 1,
      recorded: 0,
      duplicates: 1,
      set_aside: 0,
      refused: 0,
    });
    assertEquals(
      (await rows()).map((r) => [r.type, r.properties]),
      [['account_linked', { memberId: 'M-88' }]],
    );
    // Two events racing for one nonce: one gets the member id.
    await shopIssuesNonce('n-3', 'M-99');
    const raced = await Promise.all([consumeNonce('n-3', 'line:a'), consumeNonce('n-3', 'line:b')]);
    assertEquals(raced.filter((m) => m === 'M-99').length, 1, `one of ${JSON.stringify(raced)}`);
    assertEquals(await consumeNonce('n-unknown', 'line:c'), undefined);
  },
);

Deno.test(
  'line webhook: an event out of bounds is set aside with its reason, the others are recorded, and LINE gets 200',
  async () => {
    await fresh();
    const at = (timestamp: number, id: string, userId = USER) => ({
      type: 'follow',
      timestamp,
      source: { type: 'user', userId },
      webhookEventId: id,
    });
    const deep = {
      type: 'postback',
      timestamp: NOW,
      source: { type: 'user', userId: USER },
      webhookEventId: 'pb-deep',
      postback: { data: 'a=1', params: nest(9) },
    };
    const events = [
      at(NOW - 1000, 'ok-1'),
      at(NOW + 2 * 86_400_000, 'future'),
      at(0, 'epoch'),
      deep,
      at(NOW, 'bad-user', 'Uxyz'),
      at(NOW, 'x'.repeat(201)),
    ];
    const res = await handleLineWebhook(await lineRequest(JSON.stringify({ events })), {
      channelSecret: SECRET,
      sink,
      now: () => NOW,
    });
    assertEquals(
      [res.status, await res.json()],
      [200, { received: 6, recorded: 1, duplicates: 0, set_aside: 4, refused: 5 }],
    );
    // The id too long to be a key is the one not kept: a redelivery could not be told apart.
    assertEquals(
      (await statuses()).map((r) => [r.type, r.status, r.line_user_id !== null, r.status_reason]),
      [
        ['follow', 'new', true, null],
        [
          'follow',
          'set_aside',
          true,
          'events[1].timestamp is more than a day after now: check the clock, the time zone or the unit',
        ],
        [
          'follow',
          'set_aside',
          true,
          'events[2].timestamp is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)',
        ],
        [
          'postback',
          'set_aside',
          true,
          'events[3].properties.params.a.a.a.a.a.a.a nests deeper than 8 levels (counting events[3].properties as level 1)',
        ],
        ['follow', 'set_aside', false, 'events[4].source.userId is not a LINE user id'],
      ],
    );
  },
);

async function statuses(): Promise<
  {
    type: string;
    status: string;
    status_reason: string | null;
    line_user_id: string | null;
    properties: Record<string, unknown>;
  }[]
> {
  return (await pool.query('select type, status, status_reason, line_user_id, properties from events order by id'))
    .rows;
}

const postback = (id: string, data: string, params?: Record<string, unknown>) => ({
  type: 'postback',
  timestamp: NOW,
  source: { type: 'user', userId: USER },
  webhookEventId: id,
  postback: { data, ...(params ? { params } : {}) },
});

Deno.test(
  'line webhook: survey taps read by the postback grammar (lists, pickers, encodings); none is lost',
  async () => {
    await fresh();
    const events = [
      postback('pb-list', 'survey=s&q=colors&a=red&a=blue'),
      postback('pb-sep', 'survey=s&q=sizes&a=S%7CM&sep=%7C'),
      postback('pb-date', 'survey=visit&q=when', { date: '2026-12-24' }),
      postback('pb-plus', 'survey=s&q=note&a=%E8%B5%A4+%2B1'),
      postback('pb-none', 'survey=s&q=colors'),
      postback('pb-badq', 'survey=s&q=the-color&a=red'),
      postback('pb-nul', 'survey=s&q=note&a=%00'),
    ];
    const send = async () =>
      await handleLineWebhook(await lineRequest(JSON.stringify({ events })), {
        channelSecret: SECRET,
        sink,
        now: () => NOW,
      });
    const res = await send();
    assertEquals(
      [res.status, await res.json()],
      [200, { received: 7, recorded: 5, duplicates: 0, set_aside: 2, refused: 2 }],
    );
    assertEquals(
      (await statuses()).map((r) => [r.type, r.status, r.properties, r.status_reason]),
      [
        ['survey_answered', 'new', { survey: 's', question: 'colors', answer: ['red', 'blue'] }, null],
        ['survey_answered', 'new', { survey: 's', question: 'sizes', answer: ['S', 'M'] }, null],
        ['survey_answered', 'new', { survey: 'visit', question: 'when', answer: '2026-12-24' }, null],
        ['survey_answered', 'new', { survey: 's', question: 'note', answer: '赤 +1' }, null],
        ['survey_answered', 'new', { survey: 's', question: 'colors' }, null],
        [
          'postback',
          'set_aside',
          { data: 'survey=s&q=the-color&a=red' },
          'events[5].postback.data: q must be 1 to 64 letters, digits or _ (so that a condition on answers.<question> can read it), like q=interest',
        ],
        [
          'postback',
          'set_aside',
          { data: 'survey=s&q=note&a=%00' },
          'events[6].properties.answer contains a NUL character (\\u0000), which PostgreSQL cannot store',
        ],
      ],
    );
    // LINE redelivers: nothing is recorded twice, set aside or not.
    assertEquals(await (await send()).json(), { received: 7, recorded: 0, duplicates: 7, set_aside: 0, refused: 2 });
    assertEquals((await rows()).length, 7);
  },
);

Deno.test(
  'line webhook: an event the database refuses as it is, is recorded set aside; the others are recorded',
  async () => {
    await fresh();
    // A sink that refuses any row with the answer "refuse" for its data (SQLSTATE 22P02), as a
    // database would refuse a value.
    const picky: EventSink = {
      insert: (rs) =>
        rs.some((r) => r.properties.answer === 'refuse') ? Promise.reject(new SinkError('22P02')) : sink.insert(rs),
    };
    const events = [postback('pb-ok', 'survey=s&q=a&a=fine'), postback('pb-refused', 'survey=s&q=b&a=refuse')];
    const res = await handleLineWebhook(await lineRequest(JSON.stringify({ events })), {
      channelSecret: SECRET,
      sink: picky,
      now: () => NOW,
    });
    assertEquals(
      [res.status, await res.json()],
      [200, { received: 2, recorded: 1, duplicates: 0, set_aside: 1, refused: 1 }],
    );
    assertEquals(
      (await statuses()).map((r) => [r.type, r.status, r.status_reason]),
      [
        ['survey_answered', 'new', null],
        ['survey_answered', 'set_aside', 'survey_answered: the database refused it (SQLSTATE 22P02)'],
      ],
    );
  },
);

Deno.test(
  'line webhook: a follow is answered by reply, decided and rendered by the bundled planner under Deno',
  async () => {
    await fresh();
    await pool.query('delete from replies');
    await pool.query('delete from deliveries');
    await pool.query('delete from enrollments');
    const definition = {
      id: 'deno-welcome',
      version: 1,
      entry: { trigger: { type: 'follow' } },
      steps: [
        {
          id: 'hi',
          type: 'message',
          reply: true,
          messages: [{ type: 'text', text: 'Hi {{user.displayName|friend}}' }],
        },
      ],
    };
    await pool.query(
      `insert into scenario_versions (scenario_id, hash, version, definition) values ('deno-welcome', 'h1', 1, $1)
     on conflict do nothing`,
      [JSON.stringify(definition)],
    );
    await pool.query(
      `insert into scenarios (scenario_id, current_hash, version, activated_at) values ('deno-welcome', 'h1', 1, $1)
     on conflict (scenario_id) do update set current_hash = 'h1', activated_at = excluded.activated_at`,
      [new Date(NOW - 86_400_000).toISOString()],
    );
    const sent: { token: string; messages: unknown[] }[] = [];
    const reply = {
      rpc: async (fn: string, p: Record<string, unknown>) =>
        (await pool.query(`select ${fn}($1::jsonb) as r`, [JSON.stringify(p)])).rows[0].r,
      sendReply: (token: string, messages: unknown[]) => {
        sent.push({ token, messages });
        return Promise.resolve({ outcome: 'sent' as const, requestId: 'req-1' });
      },
      now: () => NOW,
    };
    const body = JSON.stringify({
      events: [
        {
          type: 'follow',
          timestamp: NOW - 1000,
          source: { type: 'user', userId: USER },
          webhookEventId: 'f-reply',
          replyToken: 'token-1',
          follow: { isUnblocked: false },
        },
      ],
    });
    const send = async () =>
      await handleLineWebhook(await lineRequest(body), { channelSecret: SECRET, sink, now: () => NOW, reply });
    assertEquals((await send()).status, 200);
    assertEquals((await send()).status, 200); // redelivered: replied once
    assertEquals(sent, [{ token: 'token-1', messages: [{ type: 'text', text: 'Hi friend' }] }]);
    assertEquals((await pool.query('select status, line_request_id from replies')).rows, [
      { status: 'sent', line_request_id: 'req-1' },
    ]);
    assertEquals((await pool.query(`select kind, status, step_id from deliveries`)).rows, [
      { kind: 'reply', status: 'sent', step_id: 'hi' },
    ]);
    assertEquals((await pool.query(`select step_id, status, lease_owner from enrollments`)).rows, [
      { step_id: 'hi', status: 'active', lease_owner: null },
    ]);
  },
);

Deno.test({ name: 'close the pool', fn: async () => await pool.end(), sanitizeOps: false, sanitizeResources: false });
