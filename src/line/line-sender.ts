// The LINE sender over the official SDK: multicast for identical messages, push for
// personalized ones, the outbox batch id as X-Line-Retry-Key, client-side pacing under
// LINE's rate limits, a timeout (the SDK has none), and failure handling by class.
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { OutboxBatch } from '../store/store.js';
import { RateLimiter } from './rate-limiter.js';
import type { Quota, SendReport, Sender } from './sender.js';

export const LINE_RATE_LIMITS = { push: 2000, multicast: 200 } as const;
export const MONTHLY_LIMIT_MESSAGE = 'You have reached your monthly limit.';

export interface LineSenderOptions {
  channelAccessToken: string;
  /** LINE_API_BASE_URL; default https://api.line.me. */
  baseURL?: string | undefined;
  /** Requests per second; default 95% of LINE's limit. */
  pushPerSecond?: number | undefined;
  multicastPerSecond?: number | undefined;
  /**
   * Requests in flight at once; default 256. The rate needs rate × round trip of them:
   * 1,900 pushes a second over the ~100 ms between a GitHub runner and LINE is 190.
   */
  concurrency?: number | undefined;
  timeoutMs?: number | undefined;
  /** Retries of one request after a 5xx, a timeout or a rate-limit 429. */
  maxRetries?: number | undefined;
  backoffMs?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

class Timeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(`no answer from LINE within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** LINE's error body: {"message": "...", "details": [{"message", "property"}]}. */
function lineError(error: HTTPFetchError): { status: number; message: string; details?: unknown } {
  try {
    const body = JSON.parse(error.body) as { message?: string; details?: unknown };
    return { status: error.status, message: body.message ?? error.message, ...(body.details ? { details: body.details } : {}) };
  } catch {
    return { status: error.status, message: error.body || error.message };
  }
}

export class LineSender implements Sender {
  readonly label: string;
  readonly concurrency: number;
  private readonly client: messagingApi.MessagingApiClient;
  private readonly limiters: Record<'push' | 'multicast', RateLimiter>;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: LineSenderOptions) {
    this.client = new messagingApi.MessagingApiClient({ channelAccessToken: options.channelAccessToken, ...(options.baseURL ? { baseURL: options.baseURL } : {}) });
    this.label = options.baseURL && options.baseURL !== 'https://api.line.me' ? 'LINE (custom base URL)' : 'LINE';
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.limiters = {
      push: new RateLimiter(options.pushPerSecond ?? LINE_RATE_LIMITS.push * 0.95, undefined, this.sleep),
      multicast: new RateLimiter(options.multicastPerSecond ?? LINE_RATE_LIMITS.multicast * 0.95, undefined, this.sleep),
    };
    this.concurrency = options.concurrency ?? 256;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoffMs = options.backoffMs ?? 500;
  }

  private backoff(attempt: number): number {
    // Exponential with full jitter.
    return Math.random() * this.backoffMs * 2 ** attempt;
  }

  async send(batch: OutboxBatch): Promise<SendReport> {
    const units = batch.aggregation_unit ? { customAggregationUnits: [batch.aggregation_unit] } : {};
    const messages = batch.messages as messagingApi.Message[];
    const request = () =>
      batch.kind === 'multicast'
        ? this.client.multicastWithHttpInfo({ to: batch.recipients, messages, ...units }, batch.id)
        : this.client.pushMessageWithHttpInfo({ to: batch.recipients[0]!, messages, ...units }, batch.id);
    let lastError: SendReport['error'];
    // Once an attempt may have been accepted (a timeout, a dropped connection, a 5xx), only
    // LINE's 200 or 409 settles it: a later 429 or 401 says nothing about that attempt.
    let mayHaveGone = false;
    const notSent = (stop?: SendReport['stop']): SendReport => ({ outcome: mayHaveGone ? 'uncertain' : 'deferred', error: lastError, ...(stop ? { stop } : {}) });
    // Every retry repeats the identical request with the same retry key.
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (attempt > 0) await this.sleep(this.backoff(attempt));
      await this.limiters[batch.kind].acquire();
      try {
        const { httpResponse } = await withTimeout(request(), this.timeoutMs);
        return { outcome: 'sent', requestId: httpResponse.headers.get('x-line-request-id') ?? undefined };
      } catch (error) {
        if (error instanceof HTTPFetchError) {
          const e = lineError(error);
          if (error.status === 409) {
            // Accepted before (a resend after a timeout or a crash): it was sent, once.
            return { outcome: 'sent', requestId: error.headers.get('x-line-accepted-request-id') ?? error.headers.get('x-line-request-id') ?? undefined };
          }
          lastError = e;
          if (error.status === 429) {
            if (e.message.includes('monthly limit')) return notSent('monthly_limit');
            this.limiters[batch.kind].pause(this.backoff(attempt + 1));
            continue;
          }
          if (error.status === 401 || error.status === 403) return notSent('unauthorized');
          if (error.status >= 500) {
            mayHaveGone = true;
            continue;
          }
          return { outcome: 'failed', error: e };
        }
        // A timeout or a dropped connection: LINE may have accepted it.
        lastError = { message: error instanceof Error ? error.message : String(error) };
        mayHaveGone = true;
      }
    }
    return notSent();
  }

  async quota(): Promise<Quota | undefined> {
    const [quota, consumption] = await Promise.all([
      withTimeout(this.client.getMessageQuota(), this.timeoutMs),
      withTimeout(this.client.getMessageQuotaConsumption(), this.timeoutMs),
    ]);
    return { limit: quota.type === 'limited' ? (quota.value ?? 0) : null, used: consumption.totalUsage };
  }
}
