// Shop events: a generic JSON endpoint authenticated by an HMAC shared secret, and a
// Shopify adapter verified with Shopify's webhook HMAC. Member ids are stored as given;
// the engine resolves them through line_users.member_id once the user links.
import { hmacSha256, timingSafeEqual, toBase64, toHex } from '../_shared/hmac.ts';
import { json, readBody, type EventRow, type EventSink } from '../_shared/events.ts';

export interface ShopEventsDeps {
  /** SHOP_EVENTS_SECRET: x-shop-signature is "sha256=" + hex HMAC of the raw body. */
  sharedSecret: string;
  /** SHOPIFY_WEBHOOK_SECRET, for /shopify requests. */
  shopifySecret?: string | undefined;
  sink: EventSink;
  now?: () => number;
}

const TYPE = /^[a-z][a-z0-9_]{0,63}$/;
const USER_ID = /^U[0-9a-f]{32}$/;

interface GenericEvent {
  type?: unknown;
  line_user_id?: unknown;
  member_id?: unknown;
  occurred_at?: unknown;
  properties?: unknown;
  idempotency_key?: unknown;
}

/** Checks one event of the generic format; returns the row or what is wrong with it. */
export function toRow(e: GenericEvent, i: number, now: number): EventRow | string {
  const at = `events[${i}]`;
  if (typeof e.type !== 'string' || !TYPE.test(e.type)) return `${at}.type must be lower snake case, like "cart_abandoned"`;
  const line = typeof e.line_user_id === 'string' ? e.line_user_id : undefined;
  const member = typeof e.member_id === 'string' || typeof e.member_id === 'number' ? String(e.member_id) : undefined;
  if (!line && !member) return `${at}: give line_user_id or member_id`;
  if (line && !USER_ID.test(line)) return `${at}.line_user_id must be "U" and 32 hex digits`;
  if (e.properties !== undefined && (typeof e.properties !== 'object' || e.properties === null || Array.isArray(e.properties))) return `${at}.properties must be an object`;
  let occurred = new Date(now).toISOString();
  if (e.occurred_at !== undefined) {
    const t = typeof e.occurred_at === 'string' && /(Z|[+-]\d\d:?\d\d)$/.test(e.occurred_at) ? Date.parse(e.occurred_at) : NaN;
    if (Number.isNaN(t)) return `${at}.occurred_at must be an ISO date with a time zone`;
    occurred = new Date(t).toISOString();
  }
  if (e.idempotency_key !== undefined && (typeof e.idempotency_key !== 'string' || e.idempotency_key.length > 200)) return `${at}.idempotency_key must be a string of at most 200 characters`;
  return {
    line_user_id: line ?? null,
    member_id: member ?? null,
    type: e.type,
    properties: (e.properties as Record<string, unknown>) ?? {},
    occurred_at: occurred,
    source: 'shop-events',
    idempotency_key: `shop:${(e.idempotency_key as string | undefined) ?? crypto.randomUUID()}`,
  };
}

interface ShopifyOrder {
  id?: number;
  customer?: { id?: number };
  total_price?: string;
  line_items?: { title?: string; product_id?: number }[];
  abandoned_checkout_url?: string;
  created_at?: string;
  updated_at?: string;
}

/** Shopify topics we map: orders/create, fulfillments/create, checkouts/create. */
export function fromShopify(topic: string, webhookId: string, body: ShopifyOrder & { order_id?: number; tracking_number?: string }): EventRow | string {
  const member = body.customer?.id ?? undefined;
  if (!member) return 'the payload has no customer: nothing to attach the event to';
  const first = body.line_items?.[0];
  const base = { member_id: String(member), source: 'shopify', idempotency_key: `shopify:${webhookId}`, occurred_at: new Date(Date.parse(body.updated_at ?? body.created_at ?? '') || Date.now()).toISOString() };
  switch (topic) {
    case 'orders/create':
      return { ...base, type: 'purchased', properties: { orderId: String(body.id), total: Number(body.total_price ?? 0), productName: first?.title ?? null, productId: first?.product_id ? String(first.product_id) : null } };
    case 'fulfillments/create':
      return { ...base, type: 'shipped', properties: { orderId: String(body.order_id ?? ''), trackingNumber: body.tracking_number ?? null } };
    case 'checkouts/create':
      return { ...base, type: 'cart_abandoned', properties: { total: Number(body.total_price ?? 0), productName: first?.title ?? null, cartUrl: body.abandoned_checkout_url ?? null } };
    default:
      return `topic ${topic} is not mapped`;
  }
}

export async function handleShopEvents(req: Request, deps: ShopEventsDeps): Promise<Response> {
  if (req.method !== 'POST') return json(405, { error: 'POST only' });
  const body = await readBody(req);
  if (body === 'too large') return json(413, { error: 'body too large' });
  const shopify = new URL(req.url).pathname.endsWith('/shopify');
  if (shopify) {
    if (!deps.shopifySecret) return json(404, { error: 'Shopify is not configured (SHOPIFY_WEBHOOK_SECRET)' });
    const given = req.headers.get('x-shopify-hmac-sha256') ?? '';
    if (!given || !timingSafeEqual(given, toBase64(await hmacSha256(deps.shopifySecret, body)))) return json(401, { error: 'bad Shopify HMAC' });
  } else {
    const given = req.headers.get('x-shop-signature') ?? '';
    if (!given || !timingSafeEqual(given, `sha256=${toHex(await hmacSha256(deps.sharedSecret, body))}`)) return json(401, { error: 'bad or missing x-shop-signature' });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return json(400, { error: 'malformed JSON' });
  }
  const now = deps.now?.() ?? Date.now();
  let rows: EventRow[];
  if (shopify) {
    const row = fromShopify(req.headers.get('x-shopify-topic') ?? '', req.headers.get('x-shopify-webhook-id') ?? crypto.randomUUID(), payload as ShopifyOrder);
    // Shopify retries non-2xx answers: an unmapped topic is acknowledged, not failed.
    if (typeof row === 'string') return json(200, { recorded: 0, skipped: row });
    rows = [row];
  } else {
    const list = Array.isArray((payload as { events?: unknown }).events) ? ((payload as { events: GenericEvent[] }).events) : [payload as GenericEvent];
    if (list.length > 500) return json(400, { error: 'at most 500 events per request' });
    const checked = list.map((e, i) => toRow(e ?? {}, i, now));
    const errors = checked.filter((c): c is string => typeof c === 'string');
    // All or nothing: a request with a bad event records none of them.
    if (errors.length) return json(400, { error: 'invalid events', details: errors });
    rows = checked as EventRow[];
  }
  const recorded = await deps.sink.insert(rows);
  return json(200, { recorded, duplicates: rows.length - recorded });
}
