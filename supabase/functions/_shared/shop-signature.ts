// The shop's signature on a shop-events request, with an optional timestamp under it.
//
//   x-shop-signature: sha256=<hex HMAC-SHA256(SHOP_EVENTS_SECRET, message)>
//   x-shop-timestamp: <unix seconds>                      (optional)
//   message = "<x-shop-timestamp>.<raw body>" when the timestamp header is sent,
//             the raw body alone otherwise.
//
// A timestamped request more than 5 minutes away from the server's clock (stale or in the
// future) is refused 401, so a captured request cannot be replayed later; stripping the
// header does not help, as the signature then no longer matches. Without the header the
// body-only signature still works (shops written before the timestamp keep working),
// unless SHOP_EVENTS_REQUIRE_TIMESTAMP=true.
import { hmacSha256, timingSafeEqual, toHex } from './hmac.ts';

/** 300 seconds: how far x-shop-timestamp may be from the server's clock, either way. */
export const SHOP_TIMESTAMP_WINDOW_SECONDS = 300;

const encoder = new TextEncoder();

/** The bytes the shop signs: "<timestamp>.<body>", or the body alone. */
export function signedMessage(body: Uint8Array, timestamp: string | null): Uint8Array {
  if (timestamp === null) return body;
  const prefix = encoder.encode(`${timestamp}.`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix);
  message.set(body, prefix.length);
  return message;
}

/** The x-shop-signature value for a body (and timestamp): what a shop sends. */
export async function shopSignature(
  secret: string,
  body: Uint8Array,
  timestamp: string | null = null,
): Promise<string> {
  return `sha256=${toHex(await hmacSha256(secret, signedMessage(body, timestamp)))}`;
}

/** Why the request's signature is refused (answered 401), or undefined when it holds. */
export async function shopSignatureProblem(
  headers: Headers,
  body: Uint8Array,
  secret: string,
  nowMs: number,
  requireTimestamp = false,
): Promise<string | undefined> {
  const given = headers.get('x-shop-signature') ?? '';
  const timestamp = headers.get('x-shop-timestamp');
  if (!given) return 'missing x-shop-signature';
  if (timestamp === null && requireTimestamp) {
    return 'missing x-shop-timestamp: sign "<unix seconds>.<body>" and send the seconds in x-shop-timestamp';
  }
  if (timestamp !== null && !/^\d{1,12}$/.test(timestamp)) return 'x-shop-timestamp must be unix seconds (digits only)';
  if (!timingSafeEqual(given, await shopSignature(secret, body, timestamp))) {
    return timestamp === null
      ? 'bad x-shop-signature'
      : 'bad x-shop-signature (with x-shop-timestamp, sign "<timestamp>.<body>")';
  }
  if (timestamp !== null) {
    const skew = Math.round(Number(timestamp) - nowMs / 1000);
    if (Math.abs(skew) > SHOP_TIMESTAMP_WINDOW_SECONDS) {
      return `x-shop-timestamp is ${Math.abs(skew)} s ${
        skew < 0 ? 'old' : 'ahead'
      }; at most ${SHOP_TIMESTAMP_WINDOW_SECONDS} s either way (a replay, or a clock to fix)`;
    }
  }
  return undefined;
}
