// A loopback LINE Messaging API that behaves as LINE documents it: validates bodies and
// limits, remembers retry keys for 24 hours of a controllable clock and answers 409 with
// x-line-accepted-request-id, answers 429 for the rate limit and for the monthly limit
// with LINE's messages, and lets a test inject 5xx, slow answers and dropped connections.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createHmac, randomUUID } from 'node:crypto';
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
const RICH_MENU_ID = /^richmenu-[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = 86_400_000;
/** The UTC+9 day of an instant as yyyyMMdd: LINE's statistics days. */
const jstDay = (at: number) => new Date(at + 9 * 3_600_000).toISOString().slice(0, 10).replace(/-/g, '');

export interface LineServerOptions {
  token?: string;
  /** Requests per second per endpoint before a rate-limit 429. */
  rateLimits?: { push: number; multicast: number };
  /** Recipients per month; undefined: no limit. */
  monthlyLimit?: number;
  /** Every answer leaves this much later: the round trip between a runner and LINE. */
  latencyMs?: number;
  now?: () => number;
  /**
   * LINE's statistics per aggregation unit, made from what this server received: of a unit's
   * distinct recipients, the first openRate (default 0.6) opened it and the first clickRate
   * (default 0.25) opened a URL; counts under 20 are null, as LINE hides them.
   * unitsUsedBefore: unit names LINE counts this month besides the ones received here.
   */
  statistics?: { openRate?: number; clickRate?: number; unitsUsedBefore?: number };
}

export class LineServer {
  readonly received: Received[] = [];
  readonly requests: { path: string; status: number; retryKey?: string | undefined; at: number }[] = [];
  readonly faults: Fault[] = [];
  /** Faults for requests whose recipients include this user (a bad id, say). */
  readonly faultsFor = new Map<string, Fault>();
  private readonly keys = new Map<string, { requestId: string; at: number }>();
  private readonly windows = new Map<string, { second: number; count: number }>();
  /** Rich menus of the account, and their aliases (alias id to rich menu id). */
  readonly richMenuIds = new Set<string>();
  readonly aliases = new Map<string, string>();
  /** Coupons of the account (Coupon API): coupon id to title. A push or multicast naming another id is refused (400). */
  readonly coupons = new Map<string, string>();
  /** Each user's own rich menu, as LINE holds it. */
  readonly linked = new Map<string, string>();
  /** Rich menu changes LINE accepted: one row per request. */
  readonly richMenuCalls: {
    kind: 'link' | 'unlink' | 'bulk-link' | 'bulk-unlink';
    users: string[];
    richMenuId?: string;
  }[] = [];
  /** GET /v2/bot/info: the channel the token belongs to (set another to play a token of another channel). */
  botInfo: {
    userId: string;
    basicId: string;
    displayName: string;
    chatMode: 'chat' | 'bot';
    markAsReadMode: 'auto' | 'manual';
  } = {
    userId: `U${'0'.repeat(31)}1`,
    basicId: '@loopback',
    displayName: 'Loopback Shop',
    chatMode: 'bot',
    markAsReadMode: 'auto',
  };
  /** The webhook settings (GET /v2/bot/channel/webhook/endpoint); undefined: never set (answered 404). */
  webhook: { endpoint: string; active: boolean } | undefined;
  /**
   * POST /v2/bot/channel/webhook/test: this answer when set; otherwise LINE's own test, played
   * for real: an empty event list POSTed to the endpoint, signed with webhookSecret when given.
   */
  webhookTestAnswer: { success: boolean; statusCode: number; reason: string; detail: string } | undefined;
  webhookSecret: string | undefined;
  /** Replies LINE accepted (POST /v2/bot/message/reply): free, not counted in usage. */
  readonly replies: { to: string; at: number; messages: unknown[]; requestId: string }[] = [];
  /** Faults for the next reply requests, in order (push and multicast faults are not used). */
  readonly replyFaults: Fault[] = [];
  /** Reply tokens handed out with webhook events: single-use, valid until `until`. */
  private readonly replyTokens = new Map<string, { to: string; until: number; used: boolean }>();
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

  private answer(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
    requestId = randomUUID(),
  ): void {
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
      return this.answer(res, 401, {
        message: 'Authentication failed. Confirm that the access token in the authorization header is valid.',
      });
    }
    if (req.method === 'GET' && path === '/v2/bot/message/quota') {
      log(200);
      return this.answer(
        res,
        200,
        this.options.monthlyLimit === undefined
          ? { type: 'none' }
          : { type: 'limited', value: this.options.monthlyLimit },
      );
    }
    if (req.method === 'GET' && path === '/v2/bot/message/quota/consumption') {
      log(200);
      return this.answer(res, 200, { totalUsage: this.usage });
    }
    if (req.method === 'GET' && path.startsWith('/v2/bot/insight/message/event/aggregation?')) {
      // A status fault (a 403, a 429) applies to the next statistics request too.
      const fault =
        this.faults[0]?.kind === 'status' ? (this.faults.shift() as Extract<Fault, { kind: 'status' }>) : undefined;
      if (fault) {
        log(fault.status);
        return this.answer(res, fault.status, fault.body ?? { message: 'An error occurred in the server.' });
      }
      const answer = this.unitStatistics(new URL(path, 'http://line').searchParams);
      log(answer.status);
      return this.answer(res, answer.status, answer.body);
    }
    if (req.method === 'GET' && path === '/v2/bot/message/aggregation/info') {
      log(200);
      const month = jstDay(this.now()).slice(0, 6);
      const units = new Set(
        this.received.filter((r) => jstDay(r.at).startsWith(month)).flatMap((r) => r.aggregationUnits ?? []),
      );
      return this.answer(res, 200, {
        numOfCustomAggregationUnits: units.size + (this.options.statistics?.unitsUsedBefore ?? 0),
      });
    }
    if (req.method === 'GET' && (path === '/v2/bot/coupon' || path.startsWith('/v2/bot/coupon?'))) {
      log(200);
      return this.answer(res, 200, this.couponPage(new URL(path, 'http://line').searchParams));
    }
    if (req.method === 'GET' && path === '/v2/bot/info') {
      log(200);
      return this.answer(res, 200, this.botInfo);
    }
    if (req.method === 'GET' && path === '/v2/bot/channel/webhook/endpoint') {
      log(this.webhook ? 200 : 404);
      return this.webhook ? this.answer(res, 200, this.webhook) : this.answer(res, 404, { message: 'Not found' });
    }
    if (req.method === 'POST' && path === '/v2/bot/channel/webhook/test') {
      const answer = await this.testWebhook();
      log(answer.status);
      return this.answer(res, answer.status, answer.body);
    }
    if (req.method === 'POST' && path === '/v2/bot/message/reply')
      return this.reply(req, res, Buffer.concat(chunks).toString('utf8'), log);
    if (path.startsWith('/v2/bot/richmenu') || /^\/v2\/bot\/user\/[^/]*\/richmenu/.test(path))
      return this.richMenu(req, res, Buffer.concat(chunks).toString('utf8'), log);
    const endpoint =
      path === '/v2/bot/message/push' ? 'push' : path === '/v2/bot/message/multicast' ? 'multicast' : undefined;
    if (req.method !== 'POST' || !endpoint) {
      log(404);
      return this.answer(res, 404, { message: 'Not found' });
    }
    let body: { to?: unknown; messages?: unknown; customAggregationUnits?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      log(400);
      return this.answer(res, 400, {
        message: 'The request body has 1 error(s)',
        details: [{ message: 'malformed JSON' }],
      });
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
        return this.answer(
          res,
          409,
          { message: 'The retry key is already accepted' },
          { 'x-line-accepted-request-id': seen.requestId },
        );
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
      this.received.push({
        to: String(to),
        at: this.now(),
        messages: body.messages as unknown[],
        retryKey,
        requestId,
        ...(Array.isArray(body.customAggregationUnits)
          ? { aggregationUnits: body.customAggregationUnits as string[] }
          : {}),
      });
    }
    log(200);
    if (fault?.kind === 'accept-then-drop') {
      req.socket.destroy();
      return;
    }
    this.answer(
      res,
      200,
      { sentMessages: (body.messages as unknown[]).map((_, i) => ({ id: `${requestId}-${i}` })) },
      {},
      requestId,
    );
  }

  /** A reply token for a webhook event of this user: single-use, expiring after ttlMs of the server's clock. */
  issueReplyToken(to: string, ttlMs = 60_000): string {
    const token = randomUUID().replace(/-/g, '');
    this.replyTokens.set(token, { to, until: this.now() + ttlMs, used: false });
    return token;
  }

  /** What each user received by reply, in order. */
  replyInbox(userId: string): unknown[][] {
    return this.replies.filter((r) => r.to === userId).map((r) => r.messages);
  }

  /** POST /v2/bot/message/reply: a token LINE issued, used once and in time; the messages as for a push. */
  private async reply(req: IncomingMessage, res: ServerResponse, text: string, log: (status: number) => void) {
    const fault = this.replyFaults.shift();
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
    let body: { replyToken?: unknown; messages?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      log(400);
      return this.answer(res, 400, {
        message: 'The request body has 1 error(s)',
        details: [{ message: 'malformed JSON' }],
      });
    }
    const held = typeof body.replyToken === 'string' ? this.replyTokens.get(body.replyToken) : undefined;
    if (!held || held.used || this.now() > held.until) {
      log(400);
      return this.answer(res, 400, { message: 'Invalid reply token' });
    }
    const errors = this.validate('push', { to: held.to, messages: body.messages });
    if (errors.length) {
      log(400);
      return this.answer(res, 400, { message: `The request body has ${errors.length} error(s)`, details: errors });
    }
    held.used = true;
    const requestId = randomUUID();
    this.replies.push({ to: held.to, at: this.now(), messages: body.messages as unknown[], requestId });
    log(200);
    if (fault?.kind === 'accept-then-drop') {
      req.socket.destroy();
      return;
    }
    this.answer(
      res,
      200,
      { sentMessages: (body.messages as unknown[]).map((_, i) => ({ id: `${requestId}-${i}` })) },
      {},
      requestId,
    );
  }

  /** LINE's webhook test: the endpoint's own answer to a signed POST with no events (status 0 when it could not be reached). */
  private async testWebhook(): Promise<{ status: number; body: unknown }> {
    const timestamp = new Date(this.now()).toISOString();
    if (this.webhookTestAnswer) return { status: 200, body: { ...this.webhookTestAnswer, timestamp } };
    if (!this.webhook) return { status: 400, body: { message: 'The webhook URL is not set' } };
    const body = JSON.stringify({ destination: this.botInfo.userId, events: [] });
    const signature = createHmac('sha256', this.webhookSecret ?? '')
      .update(body)
      .digest('base64');
    try {
      const r = await fetch(this.webhook.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-line-signature': signature },
        body,
        signal: AbortSignal.timeout(5000),
      });
      const ok = r.status >= 200 && r.status < 300;
      return {
        status: 200,
        body: {
          success: ok,
          timestamp,
          statusCode: r.status,
          reason: ok ? 'OK' : 'ERROR_STATUS_CODE',
          detail: `${r.status}`,
        },
      };
    } catch {
      return {
        status: 200,
        body: { success: false, timestamp, statusCode: 0, reason: 'COULD_NOT_CONNECT', detail: 'connection failed' },
      };
    }
  }

  /**
   * The rich menu endpoints: list, alias get and list, per-user link and unlink, bulk link
   * and unlink (1-500 user ids, answered 202). The fault queue and per-user faults apply to
   * the changes, as to sends.
   */
  private async richMenu(req: IncomingMessage, res: ServerResponse, text: string, log: (status: number) => void) {
    const path = req.url ?? '';
    const fail = (status: number, message: string) => {
      log(status);
      this.answer(res, status, { message });
    };
    if (req.method === 'GET') {
      if (path === '/v2/bot/richmenu/list') {
        log(200);
        return this.answer(res, 200, { richmenus: [...this.richMenuIds].map((richMenuId) => ({ richMenuId })) });
      }
      if (path === '/v2/bot/richmenu/alias/list') {
        log(200);
        const aliases = [...this.aliases].map(([richMenuAliasId, richMenuId]) => ({ richMenuAliasId, richMenuId }));
        return this.answer(res, 200, { aliases });
      }
      const alias = /^\/v2\/bot\/richmenu\/alias\/([^/?]+)$/.exec(path)?.[1];
      if (alias !== undefined) {
        const richMenuId = this.aliases.get(decodeURIComponent(alias));
        if (!richMenuId) return fail(404, 'richmenu alias not found');
        log(200);
        return this.answer(res, 200, { richMenuAliasId: decodeURIComponent(alias), richMenuId });
      }
      return fail(404, 'Not found');
    }
    const one = /^\/v2\/bot\/user\/([^/]*)\/richmenu(?:\/([^/]*))?$/.exec(path);
    let change: (typeof this.richMenuCalls)[number];
    if (one && req.method === 'POST' && one[2] !== undefined)
      change = { kind: 'link', users: [one[1]!], richMenuId: one[2] };
    else if (one && req.method === 'DELETE' && one[2] === undefined) change = { kind: 'unlink', users: [one[1]!] };
    else if (
      req.method === 'POST' &&
      (path === '/v2/bot/richmenu/bulk/link' || path === '/v2/bot/richmenu/bulk/unlink')
    ) {
      let body: { richMenuId?: unknown; userIds?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        return fail(400, 'The request body has 1 error(s)');
      }
      if (!Array.isArray(body.userIds) || body.userIds.length < 1 || body.userIds.length > 500)
        return fail(400, 'userIds: size must be between 1 and 500');
      const link = path.endsWith('/link');
      change = {
        kind: link ? 'bulk-link' : 'bulk-unlink',
        users: body.userIds.map(String),
        ...(link ? { richMenuId: String(body.richMenuId) } : {}),
      };
    } else return fail(404, 'Not found');
    if (change.users.some((u) => !USER_ID.test(u))) return fail(400, 'The user ID is invalid');
    const fault = change.users.map((u) => this.faultsFor.get(u)).find(Boolean) ?? this.faults.shift();
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'drop') {
      log(0);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') return fail(fault.status, 'An error occurred in the server.');
    if (change.richMenuId !== undefined) {
      if (!RICH_MENU_ID.test(change.richMenuId)) return fail(400, 'The rich menu ID is invalid');
      if (!this.richMenuIds.has(change.richMenuId)) return fail(404, 'richmenu not found');
    }
    for (const u of change.users) {
      if (change.richMenuId !== undefined) this.linked.set(u, change.richMenuId);
      else this.linked.delete(u);
    }
    this.richMenuCalls.push(change);
    const status = change.kind.startsWith('bulk') ? 202 : 200;
    log(status);
    if (fault?.kind === 'accept-then-drop') {
      req.socket.destroy();
      return;
    }
    this.answer(res, status, {});
  }

  /** GET /v2/bot/insight/message/event/aggregation: the unit's messages sent on from..to (yyyyMMdd, UTC+9, at most 30 days apart). */
  private unitStatistics(q: URLSearchParams): { status: number; body: unknown } {
    const unit = q.get('customAggregationUnit') ?? '';
    const from = q.get('from') ?? '';
    const to = q.get('to') ?? '';
    const day = (d: string) =>
      /^\d{8}$/.test(d) ? Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8))) : NaN;
    const details: { message: string; property: string }[] = [];
    if (!/^[A-Za-z0-9_]{1,30}$/.test(unit))
      details.push({ message: 'invalid unit name', property: 'customAggregationUnit' });
    if (Number.isNaN(day(from))) details.push({ message: 'must be yyyyMMdd', property: 'from' });
    if (Number.isNaN(day(to))) details.push({ message: 'must be yyyyMMdd', property: 'to' });
    else if (day(to) < day(from) || day(to) - day(from) > 30 * DAY)
      details.push({ message: 'must be from the start date to 30 days after it', property: 'to' });
    if (details.length) return { status: 400, body: { message: 'The request has errors', details } };
    const users = [
      ...new Set(
        this.received
          .filter((r) => r.aggregationUnits?.includes(unit) && jstDay(r.at) >= from && jstDay(r.at) <= to)
          .map((r) => r.to),
      ),
    ];
    const opened = Math.floor(users.length * (this.options.statistics?.openRate ?? 0.6));
    const clicked = Math.floor(users.length * (this.options.statistics?.clickRate ?? 0.25));
    const shown = (n: number) => (n < 20 ? null : n);
    return {
      status: 200,
      body: {
        overview: {
          uniqueImpression: shown(opened),
          uniqueClick: shown(clicked),
          uniqueMediaPlayed: null,
          uniqueMediaPlayed100Percent: null,
        },
        messages: users.length
          ? [
              {
                seq: 1,
                impression: shown(opened),
                uniqueImpression: shown(opened),
                mediaPlayed: null,
                uniqueMediaPlayed: null,
              },
            ]
          : [],
        clicks: users.length
          ? [
              {
                seq: 1,
                url: 'https://shop.example.com/',
                click: shown(clicked),
                uniqueClick: shown(clicked),
                uniqueClickOfRequest: shown(clicked),
              },
            ]
          : [],
      },
    };
  }

  /** GET /v2/bot/coupon: pages of `limit` (default 20), `start` the token of the next page. */
  private couponPage(query: URLSearchParams): { items: { couponId: string; title: string }[]; next?: string } {
    const all = [...this.coupons].map(([couponId, title]) => ({ couponId, title }));
    const from = Number(query.get('start') ?? 0) || 0;
    const limit = Math.min(100, Number(query.get('limit') ?? 20) || 20);
    const items = all.slice(from, from + limit);
    return from + limit < all.length ? { items, next: String(from + limit) } : { items };
  }

  private validate(
    endpoint: 'push' | 'multicast',
    body: { to?: unknown; messages?: unknown; customAggregationUnits?: unknown },
  ): { message: string; property: string }[] {
    const errors: { message: string; property: string }[] = [];
    if (endpoint === 'push') {
      if (typeof body.to !== 'string' || !USER_ID.test(body.to))
        errors.push({
          message: "The property, 'to', in the request body is invalid (line: -, column: -)",
          property: 'to',
        });
    } else if (!Array.isArray(body.to) || body.to.length < 1 || body.to.length > 500) {
      errors.push({ message: 'Size must be between 1 and 500', property: 'to' });
    } else if (body.to.some((t) => typeof t !== 'string' || !USER_ID.test(t))) {
      errors.push({
        message: "The property, 'to', in the request body is invalid (line: -, column: -)",
        property: 'to',
      });
    }
    if (!Array.isArray(body.messages) || body.messages.length < 1 || body.messages.length > 5) {
      errors.push({ message: 'Size must be between 1 and 5', property: 'messages' });
    } else {
      body.messages.forEach((m: { type?: string; text?: string; couponId?: unknown }, i) => {
        if (m.type === 'text' && (typeof m.text !== 'string' || m.text.length > 5000 || m.text.length === 0))
          errors.push({ message: 'Length must be between 1 and 5000', property: `messages[${i}].text` });
        if (m.type === 'coupon' && (typeof m.couponId !== 'string' || !this.coupons.has(m.couponId)))
          errors.push({ message: 'The coupon does not exist', property: `messages[${i}].couponId` });
      });
    }
    if (body.customAggregationUnits !== undefined) {
      const units = body.customAggregationUnits;
      if (!Array.isArray(units) || units.length !== 1 || !/^[A-Za-z0-9_]{1,30}$/.test(String(units[0])))
        errors.push({ message: 'Invalid unit name', property: 'customAggregationUnits' });
    }
    return errors;
  }
}
