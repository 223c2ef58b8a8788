// LINE's send requests through undici's Pool (Node's own HTTP client, as a library): the
// same body and headers as the keep-alive pool of src/line/transport.ts, measured beside
// it by `npm run bench -- line` (the decision, and its figures, in transport.ts's head).
import { Pool, errors } from 'undici';
import { TransportError, type LineAnswer } from '../src/line/transport.js';
import { requestOf, type LineCaller } from '../src/line/line-calls.js';
import type { CallerOptions } from '../src/line/line-sender.js';

/** A repeated header's values joined with ", ", as fetch and transport.ts give them. */
function headerLookup(headers: Record<string, string | string[] | undefined>) {
  return (name: string): string | undefined => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/** Through undici's Pool: any status is LINE's answer; no answer (a timeout, a dropped connection) rejects. */
export function undiciCaller(options: CallerOptions): LineCaller {
  const pool = new Pool(new URL(options.baseURL).origin, {
    connections: options.connections,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 4000,
  });
  const fixed = Object.entries({ 'content-type': 'application/json', ...options.headers }).flat();
  return (batch) => {
    const path = batch.kind === 'multicast' ? '/v2/bot/message/multicast' : '/v2/bot/message/push';
    const headers = [...fixed, 'x-line-retry-key', batch.id];
    const body = JSON.stringify(requestOf(batch));
    return async (): Promise<LineAnswer> => {
      try {
        const answer = await pool.request({ method: 'POST', path, headers, body });
        const text = await answer.body.text();
        return { status: answer.statusCode, statusText: '', header: headerLookup(answer.headers), body: text };
      } catch (error) {
        if (error instanceof errors.UndiciError) throw new TransportError(`no answer from LINE: ${error.message}`);
        throw error;
      }
    };
  };
}
