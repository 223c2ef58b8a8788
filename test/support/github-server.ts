// A loopback GitHub REST API for the few endpoints the action calls (issue comments,
// issues, labels), answering as GitHub documents them. It records every request, so a
// test can assert exactly what was called, and it can play a fork's read-only token
// (403 "Resource not accessible by integration" on every write).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The path with its query string, as sent. */
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
  status: number;
}

export interface StoredComment {
  id: number;
  issue_number: number;
  body: string;
  user: { login: string; type: string };
}

export interface StoredIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: { name: string }[];
  user: { login: string; type: string };
  pull_request?: { url: string };
}

export interface GitHubServerOptions {
  /** Every POST and PATCH answers 403, as for the read-only token of a fork's pull request. */
  readOnly?: boolean;
  /**
   * Whose token the requests carry, and so the author of what they write: by default the
   * workflow's GITHUB_TOKEN (github-actions[bot], a Bot). A Bot's token gets 403 from
   * GET /user ("Resource not accessible by integration") and its login without "[bot]"
   * from GraphQL's viewer, as GitHub answers; a User's token (a personal one) gets itself.
   */
  identity?: { login: string; type: 'User' | 'Bot' };
  /** GraphQL refuses the token (some app tokens): POST /graphql answers 403. */
  noGraphql?: boolean;
}

const BOT = { login: 'github-actions[bot]', type: 'Bot' };

export class GitHubServer {
  readonly requests: RecordedRequest[] = [];
  readonly comments: StoredComment[] = [];
  readonly issues: StoredIssue[] = [];
  readonly labels = new Set<string>();
  /**
   * The answers of the next workflow dispatches (POST .../actions/workflows/{file}/dispatches),
   * in order; once used up, each is answered 204 (a start), as GitHub does.
   */
  readonly dispatchAnswers: { status: number; body?: unknown; headers?: Record<string, string> }[] = [];
  private nextId = 1000;
  private server: Server | undefined;
  url = '';

  constructor(readonly options: GitHubServerOptions = {}) {}

  /** "METHOD /path?query" of each request, in order. */
  calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((ready) => this.server!.listen(0, '127.0.0.1', ready));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const [status, answer, headers] = this.answer(method, url, body);
    this.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
      body,
      status,
    });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(answer === undefined ? '' : JSON.stringify(answer));
  }

  private answer(
    method: string,
    url: URL,
    body: Record<string, unknown> | undefined,
  ): [number, unknown, Record<string, string>?] {
    if (method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+\/dispatches$/.test(url.pathname)) {
      const next = this.dispatchAnswers.shift() ?? { status: 204 };
      return [next.status, next.body, next.headers];
    }
    const path = url.pathname;
    const me = this.options.identity ?? BOT;
    if (path === '/user' && method === 'GET') {
      if (me.type === 'User') return [200, { login: me.login, type: 'User' }];
      return [403, { message: 'Resource not accessible by integration', status: '403' }];
    }
    if (path === '/graphql' && method === 'POST') {
      if (this.options.noGraphql) return [403, { message: 'Resource not accessible by integration' }];
      if (!/viewer\s*\{\s*login\s*\}/.test(String(body?.query)))
        return [200, { errors: [{ message: 'not served here' }] }];
      return [200, { data: { viewer: { login: me.login.replace(/\[bot\]$/, '') } } }];
    }
    if (this.options.readOnly && (method === 'POST' || method === 'PATCH')) {
      return [
        403,
        {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest',
          status: '403',
        },
      ];
    }
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/))) {
      const issueNumber = Number(m[1]);
      if (method === 'GET') return [200, this.comments.filter((c) => c.issue_number === issueNumber)];
      if (method === 'POST') {
        const comment = { id: this.nextId++, issue_number: issueNumber, body: textOf(body?.body), user: me };
        this.comments.push(comment);
        return [201, comment];
      }
    }
    if ((m = path.match(/^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/)) && method === 'PATCH') {
      const comment = this.comments.find((c) => c.id === Number(m![1]));
      if (!comment) return [404, { message: 'Not Found' }];
      comment.body = textOf(body?.body);
      return [200, comment];
    }
    if (path.match(/^\/repos\/[^/]+\/[^/]+\/issues$/)) {
      if (method === 'GET') {
        const state = url.searchParams.get('state') ?? 'open';
        const wanted = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
        return [
          200,
          this.issues.filter(
            (i) => (state === 'all' || i.state === state) && wanted.every((l) => i.labels.some((x) => x.name === l)),
          ),
        ];
      }
      if (method === 'POST') {
        const labels = ((body?.labels as string[] | undefined) ?? []).map((name) => ({ name }));
        const issue: StoredIssue = {
          number: this.nextId++,
          title: String(body?.title),
          body: textOf(body?.body),
          state: 'open',
          state_reason: null,
          labels,
          user: me,
        };
        this.issues.push(issue);
        return [201, issue];
      }
    }
    if ((m = path.match(/^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)$/)) && method === 'PATCH') {
      const issue = this.issues.find((i) => i.number === Number(m![1]));
      if (!issue) return [404, { message: 'Not Found' }];
      if (typeof body?.body === 'string') issue.body = body.body;
      if (typeof body?.title === 'string') issue.title = body.title;
      if (body?.state === 'open' || body?.state === 'closed') issue.state = body.state;
      if (typeof body?.state_reason === 'string') issue.state_reason = body.state_reason;
      return [200, issue];
    }
    if (path.match(/^\/repos\/[^/]+\/[^/]+\/labels$/) && method === 'POST') {
      const name = String(body?.name);
      if (this.labels.has(name)) {
        return [
          422,
          { message: 'Validation Failed', errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }] },
        ];
      }
      this.labels.add(name);
      return [201, { name, color: body?.color }];
    }
    return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];
  }
}

function textOf(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
