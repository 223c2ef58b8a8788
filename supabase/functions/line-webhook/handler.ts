// The LINE webhook: verifies x-line-signature over the raw body (constant time) and
// records follow, unfollow, postback (survey answers parsed into properties) and account
// link events, idempotent on webhookEventId. Message texts are never stored. Each event is
// bounded by the event contract: one out of bounds is not recorded, the others are.
import { hmacSha256, timingSafeEqual, toBase64 } from '../_shared/hmac.ts';
import { type EventRow, type EventSink, json, readBody, SinkError } from '../_shared/events.ts';
import {
  jsonSizeProblem,
  LINE_USER_ID,
  MAX_ID_CHARS,
  propertiesProblem,
  stringProblem,
  timeProblem,
} from '../_shared/event-contract.ts';
import { recordEach } from '../_shared/record.ts';

export interface LineWebhookDeps {
  channelSecret: string;
  sink: EventSink;
  /**
   * Consumes an account-link nonce (table line_link_nonces, SQL lsd_consume_link_nonce):
   * the member id the shop stored for it, for the first webhook event that presents it and
   * that event's redeliveries; undefined for any other event, so a nonce links once.
   */
  consumeNonce?: (nonce: string, eventKey: string) => Promise<string | undefined>;
  now?: () => number;
}

interface LineEvent {
  type?: unknown;
  webhookEventId?: unknown;
  timestamp?: unknown;
  source?: { type?: string; userId?: unknown };
  follow?: { isUnblocked?: boolean };
  postback?: { data?: unknown; params?: Record<string, unknown> };
  link?: { result?: string; nonce?: unknown };
}

/** LINE's nonces are 10 to 255 characters. */
const MAX_NONCE_CHARS = 255;
/** The type a link carries until its nonce is consumed: never recorded as such. */
const LINK_NONCE = 'account_link_nonce';

/** Postback data "survey=after-purchase&q=satisfaction&a=yes" becomes a survey answer. */
function postbackToEvent(
  data: string,
  params: Record<string, unknown> | undefined,
): { type: string; properties: Record<string, unknown> } {
  const fields = Object.fromEntries(new URLSearchParams(data));
  if (fields.survey && fields.q) {
    return {
      type: 'survey_answered',
      properties: { survey: fields.survey, question: fields.q, answer: fields.a ?? null },
    };
  }
  return { type: 'postback', properties: { ...fields, ...(params ? { params } : {}) } };
}

/** The row one LINE event becomes, undefined when it is not recorded, or the bound it breaks. */
function toEventRow(e: LineEvent, at: string, now: number): EventRow | undefined | { refused: string } {
  const userId = e.source?.userId;
  const eventId = e.webhookEventId;
  // Groups without a user, or not an event.
  if (typeof userId !== 'string' || typeof eventId !== 'string') return undefined;
  if (!LINE_USER_ID.test(userId)) return { refused: `${at}.source.userId is not a LINE user id` };
  if (!eventId || eventId.length > MAX_ID_CHARS || stringProblem(eventId)) {
    return { refused: `${at}.webhookEventId must be 1 to ${MAX_ID_CHARS} characters` };
  }
  const occurred = typeof e.timestamp === 'number' ? e.timestamp : now;
  const late = timeProblem(occurred, now, `${at}.timestamp`);
  if (late) return { refused: late };
  const base = {
    line_user_id: userId,
    occurred_at: new Date(occurred).toISOString(),
    source: 'line-webhook',
    idempotency_key: `line:${eventId}`,
  };
  switch (e.type) {
    case 'follow':
      return { ...base, type: 'follow', properties: { unblocked: e.follow?.isUnblocked === true } };
    case 'unfollow':
      return { ...base, type: 'unfollow', properties: {} };
    case 'postback':
      return typeof e.postback?.data === 'string' && e.postback.data
        ? { ...base, ...postbackToEvent(e.postback.data, e.postback.params) }
        : undefined;
    case 'accountLink': {
      const nonce = e.link?.nonce;
      if (e.link?.result !== 'ok' || typeof nonce !== 'string' || !nonce) return undefined;
      if (nonce.length > MAX_NONCE_CHARS || stringProblem(nonce)) {
        return { refused: `${at}.link.nonce must be 1 to ${MAX_NONCE_CHARS} characters` };
      }
      return { ...base, type: LINK_NONCE, properties: { nonce } };
    }
    default:
      return undefined; // messages and the rest: not recorded (their text is personal data)
  }
}

/** The rows to record, and why the events out of bounds are not recorded (by index). */
export function toEventRows(events: LineEvent[], now = Date.now()): { rows: EventRow[]; refused: string[] } {
  const rows: EventRow[] = [];
  const refused: string[] = [];
  events.forEach((e, i) => {
    const at = `events[${i}]`;
    const row = typeof e === 'object' && e !== null ? toEventRow(e, at, now) : undefined;
    if (row === undefined) return;
    if ('refused' in row) {
      refused.push(row.refused);
      return;
    }
    const problem = propertiesProblem(row.properties, `${at}.properties`) ?? jsonSizeProblem(row, at);
    if (problem) refused.push(problem);
    else rows.push(row);
  });
  return { rows, refused };
}

/** Turns links into account_linked rows when their nonce is consumed now; drops the others. */
async function consumeLinks(rows: EventRow[], consumeNonce: LineWebhookDeps['consumeNonce']): Promise<EventRow[]> {
  const kept: EventRow[] = [];
  for (const row of rows) {
    if (row.type !== LINK_NONCE) {
      kept.push(row);
      continue;
    }
    const memberId = consumeNonce ? await consumeNonce(row.properties.nonce as string, row.idempotency_key) : undefined;
    // A nonce used before (or unknown) links nothing: the answer to LINE stays 200.
    if (memberId) kept.push({ ...row, type: 'account_linked', properties: { memberId } });
  }
  return kept;
}

export async function handleLineWebhook(req: Request, deps: LineWebhookDeps): Promise<Response> {
  if (req.method !== 'POST') return json(405, { error: 'POST only' });
  const body = await readBody(req);
  if (body === 'too large') return json(413, { error: 'body too large' });
  const signature = req.headers.get('x-line-signature');
  if (!signature) return json(401, { error: 'missing x-line-signature' });
  const expected = toBase64(await hmacSha256(deps.channelSecret, body));
  if (!timingSafeEqual(signature, expected)) return json(401, { error: 'bad signature' });
  let payload: { events?: LineEvent[] };
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return json(400, { error: 'malformed JSON' });
  }
  if (!payload || !Array.isArray(payload.events)) return json(400, { error: 'events must be an array' });
  const { rows, refused } = toEventRows(payload.events, deps.now?.() ?? Date.now());
  if (refused.length) {
    console.warn(`line-webhook: ${refused.length} events out of bounds, not recorded; first: ${refused[0]}`);
  }
  try {
    const outcome = await recordEach(deps.sink, await consumeLinks(rows, deps.consumeNonce));
    for (const r of outcome.refused) refused.push(r.reason);
    return json(200, {
      received: payload.events.length,
      recorded: outcome.recorded,
      duplicates: outcome.duplicates,
      refused: refused.length,
    });
  } catch (error) {
    // Not stored: a 5xx makes LINE redeliver (with webhook redelivery on), and the same
    // webhookEventId is recorded once and may still consume its own nonce.
    console.error(
      `line-webhook: the events could not be stored (${
        error instanceof SinkError ? `SQLSTATE ${error.code}` : 'no answer'
      })`,
    );
    return json(503, { error: 'the events could not be stored now' });
  }
}
