// Shop events: a generic JSON endpoint authenticated by an HMAC shared secret (with an
// optional timestamp, see _shared/shop-signature.ts), and a Shopify adapter verified with
// Shopify's webhook HMAC. Member ids are stored as given; the engine resolves them through
// line_users.member_id once the user links.
//
// Each event is checked and recorded on its own: a bad event is refused by its index and
// reason, and the good ones beside it are recorded. The answer:
//   200 {"recorded": n, "duplicates": n, "refused": []}        every event taken
//   207 {"recorded": n, "duplicates": n, "refused": [{"index": i, "reason": "..."}]}  some refused
//   400 {"error": "...", "recorded": 0, "duplicates": 0, "refused": [...]}  none could be taken
// (a duplicate, an idempotency key seen before, counts as taken). Answers and logs name
// events by index and JSON path, never by a user id or a property value.
import { hmacSha256, timingSafeEqual, toBase64 } from '../_shared/hmac.ts';
import { type EventRow, type EventSink, json, readBody, SinkError } from '../_shared/events.ts';
import { MAX_EVENTS_PER_REQUEST } from '../_shared/event-contract.ts';
import { recordEach } from '../_shared/record.ts';
import { shopSignatureProblem } from '../_shared/shop-signature.ts';
import { toRow } from './generic.ts';
import { askForStart, type Dispatcher } from '../_shared/start-run.ts';
import { fromShopify } from './shopify.ts';

export interface ShopEventsDeps {
  /** SHOP_EVENTS_SECRET: x-shop-signature is "sha256=" + hex HMAC of the raw body (or of "<x-shop-timestamp>.<body>"). */
  sharedSecret: string;
  /** SHOP_EVENTS_REQUIRE_TIMESTAMP=true: refuse requests without x-shop-timestamp. */
  requireTimestamp?: boolean;
  /** SHOPIFY_WEBHOOK_SECRET, for /shopify requests. */
  shopifySecret?: string | undefined;
  sink: EventSink;
  now?: () => number;
  /** Asks for a tick when an event a scenario reacts to was recorded (issue 28; none: the cron job alone). */
  dispatcher?: Dispatcher | undefined;
}

interface Refusal {
  index: number;
  reason: string;
}

/** The events of a generic request: {"events": [...]} or one event object. */
function eventsOf(payload: unknown): { list: unknown[]; single: boolean } {
  const events = (payload as { events?: unknown } | null)?.events;
  return Array.isArray(events) ? { list: events, single: false } : { list: [payload], single: true };
}

/** Records the checked rows and answers for the whole request. */
async function recordAndAnswer(
  sink: EventSink,
  rows: EventRow[],
  rowIndex: number[],
  refused: Refusal[],
  total: number,
  dispatcher?: Dispatcher,
): Promise<Response> {
  let outcome;
  try {
    outcome = await recordEach(sink, rows);
    if (outcome.recorded > 0) await askForStart(dispatcher, 'shop-events');
  } catch (error) {
    console.error(
      `shop-events: the events could not be stored (${
        error instanceof SinkError ? `SQLSTATE ${error.code}` : 'no answer'
      })`,
    );
    return json(503, {
      error: 'the events could not be stored now: retry (with idempotency keys a retry records each event once)',
    });
  }
  for (const r of outcome.refused) refused.push({ index: rowIndex[r.row]!, reason: r.reason });
  refused.sort((a, b) => a.index - b.index);
  const answer = { recorded: outcome.recorded, duplicates: outcome.duplicates, refused };
  if (refused.length) {
    console.warn(`shop-events: ${refused.length} of ${total} events refused; first: ${refused[0]!.reason}`);
  }
  if (!refused.length) return json(200, answer);
  if (outcome.recorded + outcome.duplicates > 0) return json(207, answer);
  return json(400, { error: total === 1 ? 'the event was refused' : 'every event was refused', ...answer });
}

async function handleShopify(req: Request, payload: unknown, deps: ShopEventsDeps, now: number): Promise<Response> {
  const result = fromShopify(
    req.headers.get('x-shopify-topic') ?? '',
    req.headers.get('x-shopify-webhook-id') ?? crypto.randomUUID(),
    payload,
    now,
  );
  // Shopify retries non-2xx answers: an unmapped topic or a guest's order is acknowledged, not failed.
  if ('skipped' in result) return json(200, { recorded: 0, duplicates: 0, refused: [], skipped: result.skipped });
  if ('refused' in result) return recordAndAnswer(deps.sink, [], [], [{ index: 0, reason: result.refused }], 1);
  return recordAndAnswer(deps.sink, [result.row], [0], [], 1, deps.dispatcher);
}

export async function handleShopEvents(req: Request, deps: ShopEventsDeps): Promise<Response> {
  if (req.method !== 'POST') return json(405, { error: 'POST only' });
  const body = await readBody(req);
  if (body === 'too large') return json(413, { error: 'body too large: at most 1 MiB a request' });
  const now = deps.now?.() ?? Date.now();
  const shopify = new URL(req.url).pathname.endsWith('/shopify');
  if (shopify) {
    if (!deps.shopifySecret) return json(404, { error: 'Shopify is not configured (SHOPIFY_WEBHOOK_SECRET)' });
    const given = req.headers.get('x-shopify-hmac-sha256') ?? '';
    if (!given || !timingSafeEqual(given, toBase64(await hmacSha256(deps.shopifySecret, body)))) {
      return json(401, { error: 'bad Shopify HMAC' });
    }
  } else {
    const problem = await shopSignatureProblem(req.headers, body, deps.sharedSecret, now, deps.requireTimestamp);
    if (problem) return json(401, { error: problem });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return json(400, { error: 'malformed JSON' });
  }
  if (shopify) return handleShopify(req, payload, deps, now);
  const { list, single } = eventsOf(payload);
  if (list.length > MAX_EVENTS_PER_REQUEST) {
    return json(400, { error: `at most ${MAX_EVENTS_PER_REQUEST} events per request; split it` });
  }
  const rows: EventRow[] = [];
  const rowIndex: number[] = [];
  const refused: Refusal[] = [];
  list.forEach((event, index) => {
    const row = toRow(event, single ? 'the event' : `events[${index}]`, now);
    if (typeof row === 'string') refused.push({ index, reason: row });
    else {
      rows.push(row);
      rowIndex.push(index);
    }
  });
  return recordAndAnswer(deps.sink, rows, rowIndex, refused, list.length, deps.dispatcher);
}
