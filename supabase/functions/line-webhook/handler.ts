// The LINE webhook: verifies x-line-signature over the raw body (constant time) and
// records follow, unfollow, postback (read by the postback grammar of docs/events.md:
// survey answers, lists, pickers) and account link events, idempotent on webhookEventId.
// Message texts are never stored. Each event is bounded by the event contract: one out of
// bounds (or refused by the database) is recorded set aside with its reason, never lost,
// and the others are recorded as they are.
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
import { parsePostback } from '../_shared/postback-rules.ts';
import { rawPostback, setAsideRow } from './set-aside.ts';
import { askForStart, type Dispatcher } from '../_shared/start-run.ts';
import { type ReplyDeps, replyToFollow } from './reply.ts';

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
  /** Asks for a tick when an event a scenario reacts to was recorded (issue 28; none: the cron job alone). */
  dispatcher?: Dispatcher | undefined;
  /** The welcome by reply (docs/reply.md): without it, follows are only recorded. */
  reply?: ReplyDeps | undefined;
}

interface LineEvent {
  type?: unknown;
  webhookEventId?: unknown;
  timestamp?: unknown;
  replyToken?: unknown;
  source?: { type?: string; userId?: unknown };
  follow?: { isUnblocked?: boolean };
  postback?: { data?: unknown; params?: Record<string, unknown> };
  link?: { result?: string; nonce?: unknown };
}

/** LINE's nonces are 10 to 255 characters. */
const MAX_NONCE_CHARS = 255;
/** The type a link carries until its nonce is consumed: never recorded as such. */
const LINK_NONCE = 'account_link_nonce';

/** An event refused: why, and the row that records it set aside (when it has a usable event id). */
interface Refused {
  refused: string;
  aside?: EventRow;
}

/** The row one LINE event becomes, undefined when it is not recorded, or why it is refused. */
function toEventRow(e: LineEvent, at: string, now: number): EventRow | undefined | Refused {
  const row = checkedEventRow(e, at, now);
  if (row === undefined || !('refused' in row)) return row;
  const eventId = e.webhookEventId;
  if (typeof eventId !== 'string' || !eventId || eventId.length > MAX_ID_CHARS || stringProblem(eventId)) return row;
  const occurred = typeof e.timestamp === 'number' && !timeProblem(e.timestamp, now, '') ? e.timestamp : now;
  const aside = setAsideRow({
    type: e.type,
    userId: e.source?.userId,
    eventKey: `line:${eventId}`,
    occurredAt: new Date(occurred).toISOString(),
    reason: row.refused,
    properties: e.type === 'postback' ? rawPostback(e.postback) : {},
  });
  return { ...row, aside };
}

/** The row one LINE event becomes, undefined when it is not recorded, or the bound it breaks. */
function checkedEventRow(e: LineEvent, at: string, now: number): EventRow | undefined | Refused {
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
    case 'postback': {
      if (typeof e.postback?.data !== 'string' || !e.postback.data) return undefined;
      const event = parsePostback(e.postback.data, e.postback.params);
      return 'problem' in event ? { refused: `${at}.postback.data: ${event.problem}` } : { ...base, ...event };
    }
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

/** The rows to record, the rows that record refused events set aside, and why each was refused. */
export function toEventRows(
  events: LineEvent[],
  now = Date.now(),
): { rows: EventRow[]; aside: EventRow[]; refused: string[] } {
  const rows: EventRow[] = [];
  const aside: EventRow[] = [];
  const refused: string[] = [];
  events.forEach((e, i) => {
    const at = `events[${i}]`;
    const row = typeof e === 'object' && e !== null ? toEventRow(e, at, now) : undefined;
    if (row === undefined) return;
    if ('refused' in row) {
      refused.push(row.refused);
      if (row.aside) aside.push(row.aside);
      return;
    }
    const problem = propertiesProblem(row.properties, `${at}.properties`) ?? jsonSizeProblem(row, at);
    if (!problem) rows.push(row);
    else {
      refused.push(problem);
      aside.push(asideOf(row, problem, e));
    }
  });
  return { rows, aside, refused };
}

/** The set-aside record of a row that was built but cannot be stored as it is. */
function asideOf(row: EventRow, reason: string, e: LineEvent): EventRow {
  return setAsideRow({
    type: e.type,
    userId: row.line_user_id,
    eventKey: row.idempotency_key,
    occurredAt: row.occurred_at,
    reason,
    properties: e.type === 'postback' ? rawPostback(e.postback) : {},
  });
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

/**
 * Records the rows, then the set-aside rows (those refused here, and those the database
 * refused as they were): in two inserts, so each insert's rows have the same columns.
 */
async function recordWithSetAside(
  deps: LineWebhookDeps,
  rows: EventRow[],
  aside: EventRow[],
  refused: string[],
): Promise<{ recorded: number; duplicates: number; set_aside: number }> {
  const linked = await consumeLinks(rows, deps.consumeNonce);
  const outcome = await recordEach(deps.sink, linked);
  for (const r of outcome.refused) {
    refused.push(r.reason);
    const row = linked[r.row]!;
    aside.push({ ...row, properties: {}, status: 'set_aside', status_reason: `${row.type}: ${r.reason}` });
  }
  const asideOutcome = await recordEach(deps.sink, aside);
  return {
    recorded: outcome.recorded,
    duplicates: outcome.duplicates + asideOutcome.duplicates,
    set_aside: asideOutcome.recorded,
  };
}

/** Answers each recorded follow that carries a reply token; a failure here leaves the follow to the tick. */
async function replyToFollows(events: LineEvent[], rows: EventRow[], reply: ReplyDeps): Promise<void> {
  const recorded = new Map(rows.filter((r) => r.type === 'follow').map((r) => [r.idempotency_key, r]));
  for (const e of events) {
    const row = recorded.get(`line:${String(e?.webhookEventId)}`);
    if (!row || e.type !== 'follow' || typeof e.replyToken !== 'string' || !e.replyToken) continue;
    try {
      const follow = {
        eventKey: row.idempotency_key,
        replyToken: e.replyToken,
        timestamp: Date.parse(row.occurred_at),
      };
      console.log(`line-webhook: follow ${await replyToFollow(follow, reply)}`);
    } catch (error) {
      const code = error instanceof SinkError ? `SQLSTATE ${error.code}` : 'an error';
      console.error(`line-webhook: the reply to a follow stopped (${code}); the tick pushes what is due`);
    }
  }
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
  const { rows, aside, refused } = toEventRows(payload.events, deps.now?.() ?? Date.now());
  if (refused.length) {
    console.warn(`line-webhook: ${refused.length} events out of bounds, recorded set aside; first: ${refused[0]}`);
  }
  try {
    const outcome = await recordWithSetAside(deps, rows, aside, refused);
    if (deps.reply) await replyToFollows(payload.events, rows, deps.reply);
    if (outcome.recorded > 0) await askForStart(deps.dispatcher, 'line-webhook');
    return json(200, { received: payload.events.length, ...outcome, refused: refused.length });
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
