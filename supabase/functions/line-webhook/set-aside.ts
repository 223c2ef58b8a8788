// A LINE event the webhook cannot take (a postback whose data breaks the grammar, a time
// out of range, properties the database refuses) is not lost: it is recorded with status
// set_aside and the reason, as ingest sets aside what it cannot take in, so a person sees
// it (the tick's summary counts recent ones) and can replay it (docs/events.md). What is
// kept of it is made storable first: no NUL, no lone surrogate, bounded strings.
import type { EventRow } from '../_shared/events.ts';
import { EVENT_TYPE, LINE_USER_ID, MAX_STRING_CHARS, propertiesProblem } from '../_shared/event-contract.ts';

/** status_reason is cut to this many characters (as ingest cuts its reasons). */
const MAX_REASON_CHARS = 500;
/** At most this many params of a postback are kept (LINE sends at most three). */
const MAX_PARAMS = 10;

/** A string PostgreSQL can store: NUL and lone surrogates become U+FFFD, then cut to the bound. */
export function storable(s: string, max = MAX_STRING_CHARS): string {
  const clean = s.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return [...clean].slice(0, max).join('');
}

/** The postback's data and picker params as LINE sent them, made storable, so the tap can be replayed. */
export function rawPostback(postback: { data?: unknown; params?: unknown } | undefined): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  if (typeof postback?.data === 'string') raw.data = storable(postback.data);
  const params = postback?.params;
  if (params && typeof params === 'object' && !Array.isArray(params)) {
    const kept = Object.entries(params)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .slice(0, MAX_PARAMS)
      .map(([key, value]) => [storable(key, 64), storable(value)]);
    if (kept.length) raw.params = Object.fromEntries(kept);
  }
  return raw;
}

export interface SetAsideInput {
  type: unknown;
  userId: unknown;
  eventKey: string;
  occurredAt: string;
  reason: string;
  properties: Record<string, unknown>;
}

/** The row that records an event set aside: who (when a LINE user id), what LINE sent (storable), why. */
export function setAsideRow(input: SetAsideInput): EventRow {
  const properties = propertiesProblem(input.properties) ? {} : input.properties;
  return {
    line_user_id: typeof input.userId === 'string' && LINE_USER_ID.test(input.userId) ? input.userId : null,
    type: typeof input.type === 'string' && EVENT_TYPE.test(input.type) ? input.type : 'line_event',
    properties,
    occurred_at: input.occurredAt,
    source: 'line-webhook',
    idempotency_key: input.eventKey,
    status: 'set_aside',
    status_reason: storable(input.reason, MAX_REASON_CHARS),
  };
}
