// The LINE webhook: verifies x-line-signature over the raw body (constant time) and
// records follow, unfollow, postback (survey answers parsed into properties) and account
// link events, idempotent on webhookEventId. Message texts are never stored.
import { hmacSha256, timingSafeEqual, toBase64 } from '../_shared/hmac.ts';
import { json, readBody, type EventRow, type EventSink } from '../_shared/events.ts';

export interface LineWebhookDeps {
  channelSecret: string;
  sink: EventSink;
  /** The member id the shop stored for an account-link nonce (table line_link_nonces). */
  resolveNonce?: (nonce: string) => Promise<string | undefined>;
}

interface LineEvent {
  type: string;
  webhookEventId?: string;
  timestamp?: number;
  source?: { type?: string; userId?: string };
  follow?: { isUnblocked?: boolean };
  postback?: { data?: string; params?: Record<string, unknown> };
  link?: { result?: string; nonce?: string };
  deliveryContext?: { isRedelivery?: boolean };
}

/** Postback data "survey=after-purchase&q=satisfaction&a=yes" becomes a survey answer. */
function postbackToEvent(data: string, params: Record<string, unknown> | undefined): { type: string; properties: Record<string, unknown> } {
  const fields = Object.fromEntries(new URLSearchParams(data));
  if (fields.survey && fields.q) {
    return { type: 'survey_answered', properties: { survey: fields.survey, question: fields.q, answer: fields.a ?? null } };
  }
  return { type: 'postback', properties: { ...fields, ...(params ? { params } : {}) } };
}

export function toEventRows(events: LineEvent[]): EventRow[] {
  const rows: EventRow[] = [];
  for (const e of events) {
    const userId = e.source?.userId;
    if (!userId || !e.webhookEventId) continue;
    const base = { line_user_id: userId, occurred_at: new Date(e.timestamp ?? Date.now()).toISOString(), source: 'line-webhook', idempotency_key: `line:${e.webhookEventId}` };
    switch (e.type) {
      case 'follow':
        rows.push({ ...base, type: 'follow', properties: { unblocked: e.follow?.isUnblocked === true } });
        break;
      case 'unfollow':
        rows.push({ ...base, type: 'unfollow', properties: {} });
        break;
      case 'postback':
        if (e.postback?.data) rows.push({ ...base, ...postbackToEvent(e.postback.data, e.postback.params) });
        break;
      case 'accountLink':
        if (e.link?.result === 'ok') rows.push({ ...base, type: 'account_link_nonce', properties: { nonce: e.link.nonce ?? null } });
        break;
      default:
        break; // messages and the rest: not recorded (their text is personal data)
    }
  }
  return rows;
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
  const rows = toEventRows(payload.events);
  if (deps.resolveNonce) {
    for (const row of rows) {
      if (row.type !== 'account_link_nonce' || typeof row.properties.nonce !== 'string') continue;
      const memberId = await deps.resolveNonce(row.properties.nonce);
      if (memberId) Object.assign(row, { type: 'account_linked', properties: { memberId } });
    }
  }
  const inserted = rows.length ? await deps.sink.insert(rows) : 0;
  return json(200, { received: payload.events.length, recorded: inserted });
}
