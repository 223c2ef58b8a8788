// One LINE send request per batch, made by either of two transports with the same JSON
// body and headers: the SDK's own client (global fetch: the reference, ~5x the CPU), or
// the keep-alive pool of transport.ts (the default). Both give LINE's answer, whatever its
// status, as a LineAnswer, and reject when there was none (a timeout or a dropped connection).
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { OutboxBatch } from '../domain.js';
import { checkHeader, HttpPool, TransportError, type LineAnswer } from './transport.js';

export type LineTransport = 'pool' | 'sdk';

/** Makes the request of one batch; each call of the returned function is one attempt. */
export type LineCaller = (batch: OutboxBatch) => () => Promise<LineAnswer>;

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransportError(`no answer from LINE within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The request body, typed by the SDK's own request types. */
export function requestOf(batch: OutboxBatch): messagingApi.PushMessageRequest | messagingApi.MulticastRequest {
  const messages = batch.messages as messagingApi.Message[];
  const units = batch.aggregationUnit ? { customAggregationUnits: [batch.aggregationUnit] } : {};
  return batch.kind === 'multicast'
    ? { to: batch.recipients, messages, ...units }
    : { to: batch.recipients[0]!, messages, ...units };
}

/** fetch's Headers as LineAnswer's lookup (fetch joins a repeated header's values with ", "). */
const headerOf = (headers: Headers) => (name: string) => headers.get(name) ?? undefined;

/** Through the SDK's client: its HTTPFetchError (any status but 2xx) becomes the answer. */
export function sdkCaller(client: messagingApi.MessagingApiClient, timeoutMs: number): LineCaller {
  return (batch) => {
    const request = requestOf(batch);
    return async () => {
      try {
        const { httpResponse } = await withTimeout(
          batch.kind === 'multicast'
            ? client.multicastWithHttpInfo(request as messagingApi.MulticastRequest, batch.id)
            : client.pushMessageWithHttpInfo(request as messagingApi.PushMessageRequest, batch.id),
          timeoutMs,
        );
        const { status, statusText, headers } = httpResponse;
        return { status, statusText, header: headerOf(headers), body: '' };
      } catch (error) {
        if (error instanceof HTTPFetchError) {
          const { status, statusText, headers, body } = error;
          return { status, statusText, header: headerOf(headers), body };
        }
        throw error;
      }
    };
  };
}

/**
 * The headers the SDK's client sends with every request (authorization and user-agent),
 * read from the client itself so both transports stay the same; a test compares them.
 */
export function sdkDefaultHeaders(client: messagingApi.MessagingApiClient, token: string): Record<string, string> {
  const fromSdk = (client as unknown as { httpClient?: { defaultHeaders?: unknown } }).httpClient?.defaultHeaders;
  const headers: Record<string, string> = { 'user-agent': '@line/bot-sdk', authorization: `Bearer ${token}` };
  if (fromSdk && typeof fromSdk === 'object') {
    for (const [name, value] of Object.entries(fromSdk)) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
  }
  return headers;
}

/** Through the keep-alive pool: the body serialized once per batch, one write per attempt. */
export function poolCaller(
  client: messagingApi.MessagingApiClient,
  options: { channelAccessToken: string; baseURL: string; connections: number; timeoutMs: number },
): LineCaller {
  const pool = new HttpPool(options.baseURL, { connections: options.connections, timeoutMs: options.timeoutMs });
  const fixed = { 'content-type': 'application/json', ...sdkDefaultHeaders(client, options.channelAccessToken) };
  let lines = '';
  for (const [name, value] of Object.entries(fixed)) {
    try {
      checkHeader(name, value);
    } catch (error) {
      if (name !== 'authorization') throw error;
      throw new Error(
        'the LINE channel access token holds a line break or a control character: set the secret again without them',
        { cause: error },
      );
    }
    lines += `${name}: ${value}\r\n`;
  }
  return (batch) => {
    checkHeader('x-line-retry-key', batch.id);
    const path = batch.kind === 'multicast' ? '/v2/bot/message/multicast' : '/v2/bot/message/push';
    const head = `${lines}x-line-retry-key: ${batch.id}\r\n`;
    const body = JSON.stringify(requestOf(batch));
    return () => pool.request('POST', path, head, body);
  };
}
