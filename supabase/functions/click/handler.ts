// Click tracking: a signed link records a "clicked" event for the user, then redirects.
// A link that is not signed (or is tampered with) is refused, so this is no open redirect.
import { hmacSha256, timingSafeEqual, toHex } from '../_shared/hmac.ts';
import { type EventRow, type EventSink, json, SinkError } from '../_shared/events.ts';
import { LINE_USER_ID, propertiesProblem } from '../_shared/event-contract.ts';

export interface ClickDeps {
  /** CLICK_SIGNING_SECRET, the same the engine signs links with. */
  secret: string;
  sink: EventSink;
}

/** The signature of a tracked link: hex HMAC-SHA256 of "user|link|destination". */
export async function signLink(secret: string, userId: string, linkId: string, to: string): Promise<string> {
  return toHex(await hmacSha256(secret, `${userId}|${linkId}|${to}`)).slice(0, 32);
}

/**
 * Records the click when it is within the event contract and the database answers; the
 * user is redirected either way (the link is signed), and the log says only why not.
 */
async function recordClick(sink: EventSink, row: EventRow): Promise<void> {
  const problem = propertiesProblem(row.properties);
  if (problem) {
    console.warn(`click: not recorded: ${problem}`);
    return;
  }
  try {
    await sink.insert([row]);
  } catch (error) {
    console.error(`click: not recorded (${error instanceof SinkError ? `SQLSTATE ${error.code}` : 'no answer'})`);
  }
}

export async function handleClick(req: Request, deps: ClickDeps): Promise<Response> {
  if (req.method !== 'GET') return json(405, { error: 'GET only' });
  const q = new URL(req.url).searchParams;
  const userId = q.get('u') ?? '';
  const linkId = q.get('l') ?? '';
  const to = q.get('to') ?? '';
  const sig = q.get('s') ?? '';
  if (!LINE_USER_ID.test(userId) || !/^[A-Za-z0-9_-]{1,64}$/.test(linkId) || !/^https?:\/\//.test(to)) {
    return json(400, { error: 'not a tracked link' });
  }
  if (!timingSafeEqual(sig, await signLink(deps.secret, userId, linkId, to))) {
    return json(400, { error: 'not a tracked link' });
  }
  await recordClick(deps.sink, {
    line_user_id: userId,
    type: 'clicked',
    properties: { link: linkId, url: to },
    occurred_at: new Date().toISOString(),
    source: 'click',
    idempotency_key: `click:${crypto.randomUUID()}`,
  });
  return new Response(null, { status: 302, headers: { location: to } });
}
