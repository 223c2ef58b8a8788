// One event of the generic shop format, checked against the event contract: the row to
// record, or the reason it is refused (naming its JSON path, never quoting a value).
import type { EventRow } from '../_shared/events.ts';
import {
  EVENT_TYPE,
  factProblem,
  jsonSizeProblem,
  LINE_USER_ID,
  LINE_WEBHOOK_ONLY_TYPES,
  MAX_ID_CHARS,
  memberIdOf,
  parseOccurredAt,
  propertiesProblem,
  stringProblem,
} from '../_shared/event-contract.ts';

interface GenericEvent {
  type?: unknown;
  line_user_id?: unknown;
  member_id?: unknown;
  occurred_at?: unknown;
  properties?: unknown;
  idempotency_key?: unknown;
}

/** Checks one event; `at` is its JSON path in the request, like "events[3]". */
export function toRow(value: unknown, at: string, now: number): EventRow | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${at} must be a JSON object`;
  const e = value as GenericEvent;
  if (typeof e.type !== 'string' || !EVENT_TYPE.test(e.type)) {
    return `${at}.type must be lower snake case, like "cart_abandoned"`;
  }
  if (LINE_WEBHOOK_ONLY_TYPES.has(e.type)) {
    return (
      `${at}.type "${e.type}" comes from the LINE webhook only ` +
      '(it says who a LINE user is or whether they follow): not taken from a shop'
    );
  }
  if (
    e.line_user_id !== undefined &&
    e.line_user_id !== null &&
    (typeof e.line_user_id !== 'string' || !LINE_USER_ID.test(e.line_user_id))
  ) {
    return `${at}.line_user_id must be "U" and 32 lowercase hex digits`;
  }
  const line = typeof e.line_user_id === 'string' ? e.line_user_id : undefined;
  const member = memberIdOf(e.member_id);
  if (typeof member === 'object') return `${at}.member_id ${member.problem}`;
  if (!line && !member) return `${at}: give line_user_id or member_id`;
  const propertiesAt = `${at}.properties`;
  const properties = e.properties ?? {};
  const propertiesWrong = propertiesProblem(properties, propertiesAt);
  if (propertiesWrong) return propertiesWrong;
  // What ingest would set aside for the properties it reads (list_added without a list...).
  const factWrong = factProblem(e.type, properties as Record<string, unknown>);
  if (factWrong) return `${at}: ${factWrong}`;
  const occurred = e.occurred_at === undefined ? now : parseOccurredAt(e.occurred_at, now, `${at}.occurred_at`);
  if (typeof occurred === 'string') return occurred;
  const key = e.idempotency_key;
  if (key !== undefined && (typeof key !== 'string' || key === '' || key.length > MAX_ID_CHARS || stringProblem(key))) {
    return `${at}.idempotency_key must be a string of 1 to ${MAX_ID_CHARS} characters`;
  }
  // Last: properties are bounded by now, so writing the event as JSON is cheap and safe.
  const tooBig = jsonSizeProblem(value, at);
  if (tooBig) return tooBig;
  return {
    line_user_id: line ?? null,
    member_id: member ?? null,
    type: e.type,
    properties: properties as Record<string, unknown>,
    occurred_at: new Date(occurred).toISOString(),
    source: 'shop-events',
    idempotency_key: `shop:${key ?? crypto.randomUUID()}`,
  };
}
