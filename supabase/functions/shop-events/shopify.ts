// Shopify webhooks: orders/create, fulfillments/create and checkouts/create become
// purchased, shipped and cart_abandoned. Shopify's HMAC covers the body only: the topic
// and webhook id headers are not signed, so the body must look like its topic (an order
// replayed as checkouts/create is refused) and the idempotency key comes from the body.
import type { EventRow } from '../_shared/events.ts';
import { memberIdOf, parseOccurredAt, propertiesProblem } from '../_shared/event-contract.ts';

export interface ShopifyBody {
  id?: unknown;
  customer?: { id?: unknown } | null;
  total_price?: unknown;
  line_items?: { title?: unknown; product_id?: unknown }[];
  abandoned_checkout_url?: unknown;
  token?: unknown;
  cart_token?: unknown;
  order_number?: unknown;
  financial_status?: unknown;
  order_id?: unknown;
  tracking_number?: unknown;
  created_at?: unknown;
  updated_at?: unknown;
}

/** What Shopify's answer should be for a request: a row, a refusal (4xx) or a skip (200). */
export type ShopifyResult = { row: EventRow } | { refused: string } | { skipped: string };

const has = (body: ShopifyBody, field: keyof ShopifyBody) => body[field] !== undefined && body[field] !== null;

/**
 * Why the body is not a payload of the topic, or undefined. An order has an order number or
 * a financial status and no checkout URL; a checkout has a checkout URL or its token and
 * cart token and no order number or financial status; a fulfillment names its order_id.
 */
export function topicMismatch(topic: string, body: ShopifyBody): string | undefined {
  const order = has(body, 'order_number') || has(body, 'financial_status');
  const checkout = has(body, 'abandoned_checkout_url') || (has(body, 'token') && has(body, 'cart_token'));
  const mismatch = (what: string) =>
    `the body is not ${what}, as the x-shopify-topic header ${topic} says (the header is not under Shopify's HMAC)`;
  switch (topic) {
    case 'orders/create':
      return Array.isArray(body.line_items) && order && !has(body, 'abandoned_checkout_url') && !has(body, 'order_id')
        ? undefined
        : mismatch('an order');
    case 'checkouts/create':
      return Array.isArray(body.line_items) && checkout && !order ? undefined : mismatch('a checkout');
    case 'fulfillments/create':
      return has(body, 'order_id') && !order && !has(body, 'abandoned_checkout_url')
        ? undefined
        : mismatch('a fulfillment');
    default:
      return undefined;
  }
}

const idOf = (v: unknown) =>
  (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v))
    ? String(v)
    : undefined;
const text = (v: unknown) => (typeof v === 'string' ? v : null);
/** Shopify sends prices as decimal strings. */
const price = (v: unknown) => (Number.isFinite(Number(v ?? 0)) ? Number(v ?? 0) : null);

/** Maps one verified Shopify webhook to an event row. */
export function fromShopify(topic: string, webhookId: string, payload: unknown, now: number): ShopifyResult {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { refused: 'the body must be a JSON object' };
  }
  const body = payload as ShopifyBody;
  if (!['orders/create', 'fulfillments/create', 'checkouts/create'].includes(topic)) {
    return { skipped: `topic ${topic} is not mapped` };
  }
  const mismatch = topicMismatch(topic, body);
  if (mismatch) return { refused: mismatch };
  const member = memberIdOf(body.customer?.id ?? undefined);
  if (typeof member === 'object') return { refused: `customer.id ${member.problem}` };
  if (!member) return { skipped: 'the payload has no customer: nothing to attach the event to' };
  const at = body.updated_at ?? body.created_at;
  const occurred =
    at === undefined || at === null ? now : parseOccurredAt(at, now, body.updated_at ? 'updated_at' : 'created_at');
  if (typeof occurred === 'string') return { refused: occurred };
  // One event per order, checkout or fulfillment, whatever webhook id a replay carries.
  const bodyId = idOf(body.id);
  const base = {
    member_id: member,
    source: 'shopify',
    idempotency_key: bodyId ? `shopify:${topic}:${bodyId}` : `shopify:${webhookId}`,
    occurred_at: new Date(occurred).toISOString(),
  };
  const first = Array.isArray(body.line_items) ? body.line_items[0] : undefined;
  const productName = text(first?.title);
  let row: EventRow;
  switch (topic) {
    case 'orders/create':
      row = {
        ...base,
        type: 'purchased',
        properties: {
          orderId: bodyId ?? null,
          total: price(body.total_price),
          productName,
          productId: idOf(first?.product_id) ?? null,
        },
      };
      break;
    case 'fulfillments/create':
      row = {
        ...base,
        type: 'shipped',
        properties: { orderId: idOf(body.order_id) ?? null, trackingNumber: text(body.tracking_number) },
      };
      break;
    default:
      row = {
        ...base,
        type: 'cart_abandoned',
        properties: { total: price(body.total_price), productName, cartUrl: text(body.abandoned_checkout_url) },
      };
  }
  const wrong = propertiesProblem(row.properties);
  return wrong ? { refused: wrong } : { row };
}
