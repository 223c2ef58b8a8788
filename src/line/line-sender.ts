// The LINE sender, with the official SDK as the client of record (its request types, body
// and headers; the quota calls): multicast for identical messages, push for personalized
// ones, the outbox batch id as X-Line-Retry-Key, client-side pacing under LINE's rate
// limits, a timeout (the SDK has none), and failure handling by class. Sends go through a
// keep-alive connection pool (line-calls.ts), or through the SDK's own fetch on request.
import { messagingApi } from '@line/bot-sdk';
import type { OutboxBatch, RichMenuBatch } from '../domain.js';
import { RichMenuLinker } from './rich-menu.js';
import {
  poolCaller,
  sdkCaller,
  sdkDefaultHeaders,
  withTimeout,
  type LineCaller,
  type LineTransport,
} from './line-calls.js';
import { RateLimiter } from './rate-limiter.js';
import { jitteredBackoff, sendWithRetries, type Reading, type RetryPolicy } from './retrying.js';
import type { LineAnswer } from './transport.js';
import type { Quota, SendReport, Sender } from './sender.js';

export const LINE_RATE_LIMITS = { push: 2000, multicast: 200 } as const;
export const MONTHLY_LIMIT_MESSAGE = 'You have reached your monthly limit.';

/**
 * The share of LINE's limit a sender paces itself at by default: close to the limit (a tick
 * over a 100 ms round trip reached 90% of it at 95%), with the rate limiter's sliding
 * second keeping each job under its pace, and a margin for arrivals bunched by the network.
 */
export const DEFAULT_PACE_SHARE = 0.98;

/**
 * The default pace of one job: 98% of LINE's limit, shared by the jobs of a matrix (each
 * shard-count job sends on the same channel, so each gets its share).
 */
export function defaultRate(kind: 'push' | 'multicast', shardCount = 1): number {
  return (LINE_RATE_LIMITS[kind] * DEFAULT_PACE_SHARE) / Math.max(1, shardCount);
}

export interface LineSenderOptions {
  channelAccessToken: string;
  /** LINE_API_BASE_URL; default https://api.line.me. */
  baseURL?: string | undefined;
  /** Requests per second; default 98% of LINE's limit. */
  pushPerSecond?: number | undefined;
  multicastPerSecond?: number | undefined;
  /**
   * Requests in flight at once; default 256. The rate needs rate × round trip of them:
   * 1,960 pushes a second over the ~100 ms between a GitHub runner and LINE is 196.
   */
  concurrency?: number | undefined;
  timeoutMs?: number | undefined;
  /** Retries of one request after a 5xx, a timeout or a rate-limit 429. */
  maxRetries?: number | undefined;
  backoffMs?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /**
   * 'pool': keep-alive connections (the default); 'sdk': the SDK's client over global fetch,
   * the default when Node is told to use the proxy environment variables, which fetch honours.
   */
  transport?: LineTransport | ((options: CallerOptions) => LineCaller) | undefined;
}

/** What a transport of one's own is given (bench/undici-caller.ts measures undici's Pool through it). */
export interface CallerOptions {
  /** The SDK's own headers (authorization, user-agent). */
  headers: Record<string, string>;
  baseURL: string;
  connections: number;
  timeoutMs: number;
}

/** Node 24 sends fetch through HTTP(S)_PROXY when NODE_USE_ENV_PROXY=1 or --use-env-proxy. */
function defaultTransport(): LineTransport {
  const flag = '--use-env-proxy';
  const viaOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(flag);
  return process.env.NODE_USE_ENV_PROXY === '1' || process.execArgv.includes(flag) || viaOptions ? 'sdk' : 'pool';
}

/** LINE's error body: {"message": "...", "details": [{"message", "property"}]}. */
function lineError(answer: LineAnswer): { status: number; message: string; details?: unknown } {
  const fallback = `${answer.status} - ${answer.statusText}`;
  try {
    const body = JSON.parse(answer.body) as { message?: string; details?: unknown };
    return {
      status: answer.status,
      message: body.message ?? fallback,
      ...(body.details ? { details: body.details } : {}),
    };
  } catch {
    return { status: answer.status, message: answer.body || fallback };
  }
}

/** A message request's answer: 2xx sent; 409 sent before (a resend after a timeout or a crash); else LINE's error. */
function readMessageAnswer(answer: LineAnswer): Reading {
  if (answer.status >= 200 && answer.status < 300)
    return { accepted: true, requestId: answer.header('x-line-request-id') };
  if (answer.status === 409) {
    // Accepted before: it was sent, once.
    const accepted = answer.header('x-line-accepted-request-id') ?? answer.header('x-line-request-id');
    return { accepted: true, requestId: accepted };
  }
  const error = lineError(answer);
  return answer.status === 429 && error.message.includes('monthly limit')
    ? { accepted: false, error, stop: 'monthly_limit' }
    : { accepted: false, error };
}

export class LineSender implements Sender {
  readonly label: string;
  readonly concurrency: number;
  /** Requests a second this sender paces itself at. */
  readonly rates: Readonly<Record<'push' | 'multicast', number>>;
  private readonly client: messagingApi.MessagingApiClient;
  private readonly call: LineCaller;
  /** Each kind's pace, retries and backoff (src/line/retrying.ts). */
  private readonly retry: Record<'push' | 'multicast', RetryPolicy>;
  private readonly timeoutMs: number;

  constructor(options: LineSenderOptions) {
    this.client = new messagingApi.MessagingApiClient({
      channelAccessToken: options.channelAccessToken,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    });
    this.label = options.baseURL && options.baseURL !== 'https://api.line.me' ? 'LINE (custom base URL)' : 'LINE';
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    this.rates = {
      push: options.pushPerSecond ?? defaultRate('push'),
      multicast: options.multicastPerSecond ?? defaultRate('multicast'),
    };
    const maxRetries = options.maxRetries ?? 4;
    const backoffMs = options.backoffMs ?? 500;
    const backoff = jitteredBackoff(backoffMs);
    const policy = (perSecond: number): RetryPolicy => ({
      limiter: new RateLimiter(perSecond, undefined, sleep),
      maxRetries,
      backoff,
      sleep,
    });
    this.retry = { push: policy(this.rates.push), multicast: policy(this.rates.multicast) };
    this.concurrency = options.concurrency ?? 256;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.call = this.caller(options.transport ?? defaultTransport(), options);
    this.richMenus = new RichMenuLinker({
      client: this.client,
      limiter: this.retry.push.limiter,
      timeoutMs: this.timeoutMs,
      maxRetries,
      backoffMs,
      sleep,
    });
  }

  private caller(transport: NonNullable<LineSenderOptions['transport']>, options: LineSenderOptions): LineCaller {
    if (transport === 'sdk') return sdkCaller(this.client, this.timeoutMs);
    const where = {
      baseURL: options.baseURL ?? 'https://api.line.me',
      connections: this.concurrency,
      timeoutMs: this.timeoutMs,
    };
    if (typeof transport === 'function')
      return transport({ headers: sdkDefaultHeaders(this.client, options.channelAccessToken), ...where });
    return poolCaller(this.client, { channelAccessToken: options.channelAccessToken, ...where });
  }

  /** Rich menu batches (issue 18): through the SDK's client, at the push pace (LINE's default limit). */
  private readonly richMenus: RichMenuLinker;

  richMenu(batch: RichMenuBatch): Promise<SendReport> {
    return this.richMenus.send(batch);
  }

  send(batch: OutboxBatch): Promise<SendReport> {
    // Every retry repeats the identical request with the same retry key.
    return sendWithRetries(this.retry[batch.kind], this.call(batch), readMessageAnswer);
  }

  async quota(): Promise<Quota | undefined> {
    const [quota, consumption] = await Promise.all([
      withTimeout(this.client.getMessageQuota(), this.timeoutMs),
      withTimeout(this.client.getMessageQuotaConsumption(), this.timeoutMs),
    ]);
    return { limit: quota.type === 'limited' ? (quota.value ?? 0) : null, used: consumption.totalUsage };
  }
}
