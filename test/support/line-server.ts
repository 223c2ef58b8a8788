// A loopback LINE Messaging API that behaves as LINE documents it: validates bodies and
// limits, remembers retry keys for 24 hours of a controllable clock and answers 409 with
// x-line-accepted-request-id, answers 429 for the rate limit and for the monthly limit
// with LINE's messages, and lets a test inject 5xx, slow answers and dropped connections.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'delay'; ms: number }
  /** Drop the connection without answering, before LINE accepts the request. */
  | { kind: 'drop' }
  /** Accept the request (the users get it), then drop the connection: a timeout after success. */
  | { kind: 'accept-then-drop' };

export interface Received {
  to: string;
  /** When LINE accepted it (the server's clock). */
  at: number;
  messages: unknown[];
  retryKey: string | undefined;
  requestId: string;
  aggregationUnits?: string[];
}

const USER_ID = /^U[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = 86_400_000;

export interface LineServerOptions {
  token?: string;
  /** Requests per second per endpoint before a rate-limit 429. */
  rateLimits?: { push: number; multicast: number };
  /** Recipients per month; undefined: no limit. */
  monthlyLimit?: number;
  /** Every answer leaves this much later: the round trip between a runner and LINE. */
  latencyMs?: number;
  now?: () => number;
}

export class LineServer {
  readonly received: Received[] = [];
  readonly requests: { path: string; status: number; retryKey?: string | undefined; at: number }[] = [];
  readonly faults: Fault[] = [];
  /** Faults for requests whose recipients include this user (a bad id, say). */
  readonly faultsFor = new Map<string, Fault>();
  private readonly keys = new Map<string, { requestId: string; at: number }>();
  private readonly windows = new Map<string, { second: number; count: number }>();
  private server: Server | undefined;
  usage = 0;
  url = '';

  constructor(private readonly options: LineServerOptions = {}) {}

  get token(): string {
    return this.options.token ?? 'test-token';
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** What each user received, in order. */
  inbox(userId: string): unknown[][] {
    return this.received.filter((r) => r.to === userId).map((r) => r.messages);
  }

  private answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, requestId = randomUUID()): void {
    const send = () => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-line-request-id': requestId, ...headers });
      res.end(JSON.stringify(body));
    };
    if (this.options.latencyMs) setTimeout(send, this.options.latencyMs);
    else send();
  }

  private rateLimited(endpoint: 'push' | 'multicast'): boolean {
    const limit = this.options.rateLimits?.[endpoint];
    if (!limit) return false;
    const second = Math.floor(performance.now() / 1000);
    const w = this.windows.get(endpoint);
    if (!w || w.second !== second) {
      this.windows.set(endpoint, { second, count: 1 });
      return false;
    }
    w.count++;
    return w.count > limit;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '';
    const retryKey = req.headers['x-line-retry-key'] as string | undefined;
    const log = (status: number) => this.requests.push({ path, status, retryKey, at: this.now() });
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      log(401);
      return this.answer(res, 401, { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' });
    }
    if (req.method === 'GET' && path === '/v2/bot/message/quota') {
      log(200);
      return this.answer(res, 200, this.options.monthlyLimit === undefined ? { type: 'none' } : { type: 'limited', value: this.options.monthlyLimit });
    }
    if (req.method === 'GET' && path === '/v2/bot/message/quota/consumption') {
      log(200);
      return this.answer(res, 200, { totalUsage: this.usage });
    }
    const endpoint = path === '/v2/bot/message/push' ? 'push' : path === '/v2/bot/message/multicast' ? 'multicast' : undefined;
    if (req.method !== 'POST' || !endpoint) {
      log(404);
      return this.answer(res, 404, { message: 'Not found' });
    }
    let body: { to?: unknown; messages?: unknown; customAggregationUnits?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      log(400);
      return this.answer(res, 400, { message: 'The request body has 1 error(s)', details: [{ message: 'malformed JSON' }] });
    }
    const recipients = endpoint === 'push' ? [body.to] : Array.isArray(body.to) ? body.to : [];
    const userFault = recipients.map((r) => this.faultsFor.get(String(r))).find(Boolean);
    const fault = userFault ?? this.faults.shift();
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'drop') {
      log(0);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      log(fault.status);
      return this.answer(res, fault.status, fault.body ?? { message: 'An error occurred in the server.' });
    }
    if (retryKey !== undefined && !UUID.test(retryKey)) {
      log(400);
      return this.answer(res, 400, { message: 'The value of the X-Line-Retry-Key header is invalid' });
    }
    if (retryKey) {
      const seen = this.keys.get(retryKey);
      if (seen && this.now() - seen.at < DAY) {
        log(409);
        return this.answer(res, 409, { message: 'The retry key is already accepted' }, { 'x-line-accepted-request-id': seen.requestId });
      }
    }
    if (this.rateLimited(endpoint)) {
      log(429);
      return this.answer(res, 429, { message: 'The API rate limit has been exceeded. Try again later.' });
    }
    const errors = this.validate(endpoint, body);
    if (errors.length) {
      log(400);
      return this.answer(res, 400, { message: `The request body has ${errors.length} error(s)`, details: errors });
    }
    if (this.options.monthlyLimit !== undefined && this.usage + recipients.length > this.options.monthlyLimit) {
      log(429);
      return this.answer(res, 429, { message: 'You have reached your monthly limit.' });
    }
    const requestId = randomUUID();
    if (retryKey) this.keys.set(retryKey, { requestId, at: this.now() });
    this.usage += recipients.length;
    for (const to of recipients) {
      this.received.push({ to: String(to), at: this.now(), messages: body.messages as unknown[], retryKey, requestId, ...(Array.isArray(body.customAggregationUnits) ? { aggregationUnits: body.customAggregationUnits as string[] } : {}) });
    }
    log(200);
    if (fault?.kind === 'accept-then-drop') {
      req.socket.destroy();
      return;
    }
    this.answer(res, 200, { sentMessages: (body.messages as unknown[]).map((_, i) => ({ id: `${requestId}-${i}` })) }, {}, requestId);
  }

  private validate(endpoint: 'push' | 'multicast', body: { to?: unknown; messages?: unknown; customAggregationUnits?: unknown }): { message: string; property: string }[] {
    const errors: { message: string; property: string }[] = [];
    if (endpoint === 'push') {
      if (typeof body.to !== 'string' || !USER_ID.test(body.to)) errors.push({ message: 'The property, \'to\', in the request body is invalid (line: -, column: -)', property: 'to' });
    } else if (!Array.isArray(body.to) || body.to.length < 1 || body.to.length > 500) {
      errors.push({ message: 'Size must be between 1 and 500', property: 'to' });
    } else if (body.to.some((t) => typeof t !== 'string' || !USER_ID.test(t))) {
      errors.push({ message: 'The property, \'to\', in the request body is invalid (line: -, column: -)', property: 'to' });
    }
    if (!Array.isArray(body.messages) || body.messages.length < 1 || body.messages.length > 5) {
      errors.push({ message: 'Size must be between 1 and 5', property: 'messages' });
    } else {
      body.messages.forEach((m: { type?: string; text?: string }, i) => {
        if (m.type === 'text' && (typeof m.text !== 'string' || m.text.length > 5000 || m.text.length === 0)) errors.push({ message: 'Length must be between 1 and 5000', property: `messages[${i}].text` });
      });
    }
    if (body.customAggregationUnits !== undefined) {
      const units = body.customAggregationUnits;
      if (!Array.isArray(units) || units.length !== 1 || !/^[A-Za-z0-9_]{1,30}$/.test(String(units[0]))) errors.push({ message: 'Invalid unit name', property: 'customAggregationUnits' });
    }
    return errors;
  }
}
