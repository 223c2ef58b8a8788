// LINE's reply API (POST /v2/bot/message/reply, Messaging API): what its answer means for
// the welcome by reply. 200: sent. A 4xx (an invalid, used or expired reply token, a body
// LINE refuses, a rate limit): not sent, so the tick pushes the step. No answer (a timeout, a
// network failure, a 5xx): LINE may have delivered it, so it is never pushed (at most once).
import type { ReplyOutcome } from './reply.ts';

export interface LineReplyOptions {
  channelAccessToken: string;
  /** LINE_API_BASE_URL (default https://api.line.me; tests point it at a loopback server). */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** LINE's own words for a refusal (its message names the problem, never the user). */
async function lineMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: unknown };
    return typeof body.message === 'string' ? body.message.slice(0, 200) : '';
  } catch {
    return '';
  }
}

export function lineReplier(
  options: LineReplyOptions,
): (replyToken: string, messages: unknown[]) => Promise<ReplyOutcome> {
  const base = (options.baseUrl ?? 'https://api.line.me').replace(/\/+$/, '');
  const call = options.fetch ?? fetch;
  return async (replyToken, messages) => {
    let res: Response;
    try {
      res = await call(`${base}/v2/bot/message/reply`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.channelAccessToken}` },
        body: JSON.stringify({ replyToken, messages }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      return { outcome: 'unknown', reason: timedOut ? 'no answer within the timeout' : 'no answer (network)' };
    }
    if (res.ok) {
      await res.body?.cancel();
      return { outcome: 'sent', requestId: res.headers.get('x-line-request-id') ?? undefined };
    }
    const said = await lineMessage(res);
    const reason = `LINE answered ${res.status}${said ? `: ${said}` : ''}`;
    return { outcome: res.status >= 500 ? 'unknown' : 'failed', reason };
  };
}
