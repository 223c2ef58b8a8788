// One request to LINE, paced and retried: the loop every LINE call of the sender shares
// (messages in src/line/line-sender.ts, rich menus in src/line/rich-menu.ts).
//
// Every retry repeats the identical request. An answer that never came (a timeout, a
// dropped connection) or a 5xx may mean LINE accepted it: from then on only a success
// settles the request, and giving up leaves it "uncertain"; otherwise "deferred". A 429
// pauses the pace; 401 and 403 stop the tick's sending; any other status fails the batch.
import type { RateLimiter } from './rate-limiter.js';
import type { SendReport } from './sender.js';

export interface RetryPolicy {
  limiter: RateLimiter;
  maxRetries: number;
  /** The wait before attempt n (and the pause after a 429 at attempt n - 1). */
  backoff: (attempt: number) => number;
  sleep: (ms: number) => Promise<void>;
}

/** Exponential backoff with full jitter: a random wait below base × 2^attempt. */
export const jitteredBackoff =
  (baseMs: number) =>
  (attempt: number): number =>
    Math.random() * baseMs * 2 ** attempt;

/** What an answer says: accepted (with LINE's request id), or refused with LINE's error. */
export type Reading =
  | { accepted: true; requestId: string | undefined }
  | { accepted: false; error: NonNullable<SendReport['error']>; stop?: 'monthly_limit' };

export async function sendWithRetries<A extends { status: number }>(
  policy: RetryPolicy,
  request: () => Promise<A>,
  read: (answer: A) => Reading,
): Promise<SendReport> {
  const { limiter } = policy;
  let lastError: SendReport['error'];
  let mayHaveGone = false;
  const notSent = (stop?: SendReport['stop']): SendReport => ({
    outcome: mayHaveGone ? 'uncertain' : 'deferred',
    error: lastError,
    ...(stop ? { stop } : {}),
  });
  for (let attempt = 0; attempt <= policy.maxRetries; attempt++) {
    if (attempt > 0) await policy.sleep(policy.backoff(attempt));
    const slot = limiter.acquire();
    if (slot) await slot;
    // The window check and the request in one synchronous step (RateLimiter.startNow).
    for (let full = limiter.startNow(); full; full = limiter.startNow()) await full;
    let answer: A;
    try {
      answer = await request();
    } catch (error) {
      lastError = { message: error instanceof Error ? error.message : String(error) };
      mayHaveGone = true;
      continue;
    }
    const reading = read(answer);
    if (reading.accepted) return { outcome: 'sent', requestId: reading.requestId };
    lastError = reading.error;
    if (answer.status === 429) {
      if (reading.stop) return notSent(reading.stop);
      limiter.pause(policy.backoff(attempt + 1));
      continue;
    }
    if (answer.status === 401 || answer.status === 403) return notSent('unauthorized');
    if (answer.status >= 500) {
      mayHaveGone = true;
      continue;
    }
    return { outcome: 'failed', error: reading.error };
  }
  return notSent();
}
