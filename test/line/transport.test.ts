// The keep-alive pool that carries LINE sends: the same request as the SDK's, answers in
// every HTTP/1.1 framing, keep-alive and its limits, failures as "no answer", TLS.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { HttpPool, TransportError } from '../../src/line/transport.js';
import { LineSender } from '../../src/line/line-sender.js';
import type { OutboxBatch } from '../../src/domain.js';
import { LineServer } from '../support/line-server.js';

const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const batch = (over: Partial<OutboxBatch> = {}): OutboxBatch => ({
  id: randomUUID(),
  scenarioId: 's',
  stepId: 'a',
  kind: 'push',
  messages: [{ type: 'text', text: 'こんにちは' }],
  recipients: [U(1)],
  aggregationUnit: 's__a',
  attempts: 1,
  createdAt: 0,
  ...over,
});
const HEAD = 'authorization: Bearer t\r\ncontent-type: application/json\r\n';

/** A TCP server that answers each request (read up to its body) with `answer(n)`'s bytes. */
async function rawServer(answer: (n: number, socket: net.Socket) => string | Buffer[] | undefined) {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on('error', () => {});
    const onData = async (chunk: Buffer): Promise<void> => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.toString('latin1', 0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        const reply = answer(requests++, socket);
        if (typeof reply === 'string') socket.write(reply);
        else if (reply)
          for (const piece of reply) await new Promise<void>((r) => socket.write(piece, () => setTimeout(r, 2)));
      }
    };
    socket.on('data', (chunk: Buffer) => void onData(chunk));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => sockets.size };
}

test('the pool sends the request the SDK sends: the same JSON body and the same headers', async () => {
  const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req
      .setEncoding('utf8')
      .on('data', (c) => (body += c))
      .on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(200, { 'x-line-request-id': `r${seen.length}` }).end('{"sentMessages":[]}');
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const b of [batch(), batch({ kind: 'multicast', recipients: [U(1), U(2)] }), batch({ aggregationUnit: null })]) {
    seen.length = 0;
    const viaSdk = await new LineSender({ channelAccessToken: 'tok', baseURL, transport: 'sdk' }).send(b);
    const viaPool = await new LineSender({ channelAccessToken: 'tok', baseURL }).send(b);
    assert.deepEqual(
      [viaSdk, viaPool],
      [
        { outcome: 'sent', requestId: 'r1' },
        { outcome: 'sent', requestId: 'r2' },
      ],
    );
    const [sdk, pool] = seen;
    assert.equal(pool!.body, sdk!.body, "byte for byte the SDK's JSON");
    for (const name of ['authorization', 'content-type', 'user-agent', 'x-line-retry-key', 'host', 'content-length']) {
      assert.equal(pool!.headers[name], sdk!.headers[name], name);
    }
    assert.match(pool!.headers['user-agent']!, /^@line\/bot-sdk\/\d/);
    assert.equal(pool!.headers['x-line-retry-key'], b.id);
  }
});

test("both transports class LINE's answers alike", async () => {
  const reports = async (transport: 'pool' | 'sdk') => {
    const server = await new LineServer({ monthlyLimit: 5 }).start();
    closers.push(() => server.stop());
    const sender = new LineSender({
      channelAccessToken: server.token,
      baseURL: server.url,
      backoffMs: 1,
      timeoutMs: 300,
      maxRetries: 2,
      transport,
    });
    const out: unknown[] = [];
    const b = batch();
    out.push(await sender.send(b), await sender.send(b)); // 200, then 409 for the same retry key
    out.push(await sender.send(batch({ recipients: ['bad'] }))); // 400 with details
    server.faults.push(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    );
    out.push(await sender.send(batch()));
    server.faults.push({ kind: 'drop' }, { kind: 'drop' }, { kind: 'drop' });
    out.push(await sender.send(batch()));
    server.faults.push({ kind: 'delay', ms: 700 }, { kind: 'delay', ms: 700 }, { kind: 'delay', ms: 700 });
    out.push(await sender.send(batch()));
    server.faults.push({ kind: 'status', status: 404, body: 'not json' });
    out.push(await sender.send(batch()));
    out.push(await sender.send(batch({ kind: 'multicast', recipients: [U(2), U(3), U(4), U(5), U(6)] }))); // over the monthly limit
    out.push(await new LineSender({ channelAccessToken: 'wrong', baseURL: server.url, transport }).send(batch()));
    // Request ids differ between servers: compare whether one was given. A dropped
    // connection is "fetch failed" through the SDK, and says what happened through the pool.
    const drop = (m: string) => (/fetch failed|closed the connection before answering/.test(m) ? 'dropped' : m);
    return out.map((r) =>
      JSON.parse(JSON.stringify(r, (k, v) => (k === 'requestId' ? typeof v : k === 'message' ? drop(v) : v))),
    );
  };
  const [pool, sdk] = [await reports('pool'), await reports('sdk')];
  assert.deepEqual(pool, sdk);
  assert.deepEqual(
    pool.map((r) => [r.outcome, r.stop, r.error?.status]),
    [
      ['sent', undefined, undefined],
      ['sent', undefined, undefined],
      ['failed', undefined, 400],
      ['uncertain', undefined, 500],
      ['uncertain', undefined, undefined],
      ['uncertain', undefined, undefined],
      ['failed', undefined, 404],
      ['deferred', 'monthly_limit', 429],
      ['deferred', 'unauthorized', 401],
    ],
  );
  assert.match(pool[5].error.message, /no answer from LINE within 300 ms/);
  assert.equal(pool[6].error.message, '404 - Not Found', 'no message in the body: the status line');
});

test('requests reuse one keep-alive connection; a Connection: close answer is honoured', async () => {
  // As servers do, the closing one answers nothing more on that connection, and ends it a bit later.
  const closing = new Set<net.Socket>();
  const server = await rawServer((n, socket) => {
    if (closing.has(socket)) return undefined;
    if (n !== 3) return `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-line-request-id: r${n}\r\n\r\n{}`;
    closing.add(socket);
    setTimeout(() => socket.end(), 100);
    return 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}';
  });
  const pool = new HttpPool(server.url, { connections: 4, timeoutMs: 2000 });
  closers.push(() => pool.close());
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push((await pool.request('POST', '/x', HEAD, '{}')).header('x-line-request-id'));
  assert.deepEqual(ids, ['r0', 'r1', 'r2', undefined, 'r4', 'r5']);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.connections(), 1, 'the closed connection is gone, its successor open');
});

test('answers framed by length, by chunks (split anywhere), by the close, after a 100 Continue, and 204', async () => {
  const pieces = ['{"mes', 'sage":"bad","det":1}'];
  const chunked = `HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n${pieces.map((p, i) => `${p.length.toString(16)}${i ? '' : ';x=y'}\r\n${p}\r\n`).join('')}0\r\nTrailer: t\r\n\r\n`;
  const answers: (string | Buffer[])[] = [
    'HTTP/1.1 200 OK\r\ncontent-length: 12\r\nX-Line-Request-Id: a\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n{"ok":"日"}',
    [...Buffer.from(chunked)].map((byte) => Buffer.from([byte])),
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.1 503 Service Unavailable\r\n\r\nsorry',
  ];
  const server = await rawServer((n, socket) => {
    if (n === 4) {
      socket.end(answers[4] as string);
      return undefined;
    }
    return answers[n];
  });
  const pool = new HttpPool(server.url, { connections: 1, timeoutMs: 5000 });
  closers.push(() => pool.close());
  const got = [];
  for (let i = 0; i < answers.length; i++) got.push(await pool.request('POST', '/x', HEAD, '{}'));
  const [first] = got;
  assert.deepEqual([first!.status, first!.statusText, first!.body], [200, 'OK', '{"ok":"日"}']);
  assert.deepEqual(
    ['X-Line-Request-Id', 'x-dup', 'content-length', 'x-none', 'ok'].map((n) => first!.header(n)),
    ['a', '1, 2', '12', undefined, undefined],
  );
  assert.deepEqual(
    [got[1]!.status, got[1]!.statusText, JSON.parse(got[1]!.body)],
    [400, 'Bad Request', { message: 'bad', det: 1 }],
  );
  assert.deepEqual([got[2]!.status, got[2]!.body], [201, '']);
  assert.deepEqual([got[3]!.status, got[3]!.body], [204, '']);
  assert.deepEqual([got[4]!.status, got[4]!.body], [503, 'sorry']);
});

test('no complete answer is a TransportError: garbage, a drop mid-answer, silence past the timeout', async () => {
  const server = await rawServer((n, socket) => {
    if (n === 0) return 'SMTP ready\r\n\r\n';
    if (n === 1) {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"sent');
      return undefined;
    }
    if (n === 2) return undefined; // never answers
    return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}';
  });
  const pool = new HttpPool(server.url, { connections: 2, timeoutMs: 200 });
  closers.push(() => pool.close());
  await assert.rejects(
    pool.request('POST', '/x', HEAD, '{}'),
    (e) => e instanceof TransportError && /not HTTP/.test(e.message),
  );
  await assert.rejects(
    pool.request('POST', '/x', HEAD, '{}'),
    (e) => e instanceof TransportError && /closed the connection before answering/.test(e.message),
  );
  const started = performance.now();
  await assert.rejects(
    pool.request('POST', '/x', HEAD, '{}'),
    (e) => e instanceof TransportError && e.message === 'no answer from LINE within 200 ms',
  );
  assert.ok(performance.now() - started < 600, 'the deadline is kept');
  assert.equal((await pool.request('POST', '/x', HEAD, '{}')).status, 200, 'and the pool goes on');
  const refused = new HttpPool('http://127.0.0.1:1', { connections: 1, timeoutMs: 1000 });
  await assert.rejects(
    refused.request('GET', '/x', HEAD),
    (e) => e instanceof TransportError && /ECONNREFUSED/.test(e.message),
  );
});

test('at most `connections` at once, the rest wait their turn; a connection the server closed while idle is not used', async () => {
  let open = 0;
  let most = 0;
  const server = http.createServer((req, res) => {
    req.resume().on('end', () => setTimeout(() => res.end('{}'), 20));
  });
  server.on('connection', (socket) => {
    most = Math.max(most, ++open);
    socket.on('close', () => open--);
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  const pool = new HttpPool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    connections: 3,
    timeoutMs: 5000,
  });
  closers.push(() => pool.close());
  const answers = await Promise.all(Array.from({ length: 20 }, () => pool.request('POST', '/x', HEAD, '{}')));
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(most, 3);
  for (let waited = 0; open > 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  assert.equal(open, 0, 'the server closed the idle connections');
  assert.equal((await pool.request('POST', '/x', HEAD, '{}')).status, 200);
});

test('idle connections do not keep the process alive', async () => {
  const server = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
  const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  const before = sockets();
  const pool = new HttpPool(server.url, { connections: 2, timeoutMs: 2000 });
  closers.push(() => pool.close());
  await Promise.all([pool.request('POST', '/x', HEAD, '{}'), pool.request('POST', '/x', HEAD, '{}')]);
  assert.equal(server.connections(), 2);
  // The server's ends of the connections are in this process too, and count.
  assert.equal(sockets() - server.connections(), before, "the pool's idle connections do not count");
});

test('a token with a line break, or a base URL that is not http(s), is refused before any request', () => {
  assert.throws(
    () => new LineSender({ channelAccessToken: 't', baseURL: 'api.line.me' }),
    /LINE_API_BASE_URL\) must be an http or https URL such as https:\/\/api.line.me, got "api.line.me"/,
  );
  assert.throws(
    () => new LineSender({ channelAccessToken: 'tok3n\r\nX-Evil: 1', baseURL: 'http://127.0.0.1:1' }),
    (e: Error) => /access token holds a line break/.test(e.message) && !e.message.includes('tok3n'),
  );
});

test("https: the server's certificate is verified, and the connection is kept alive", async (context) => {
  const dir = mkdtempSync(join(tmpdir(), 'lsd-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
  } catch {
    context.skip();
  }
  const cert = readFileSync(join(dir, 'cert.pem'));
  let connections = 0;
  const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    req.resume().on('end', () => res.writeHead(200, { 'x-line-request-id': 'tls' }).end('{}'));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  const url = `https://localhost:${(server.address() as AddressInfo).port}`;
  const pool = new HttpPool(url, { connections: 2, timeoutMs: 5000, tls: { ca: cert } });
  closers.push(() => pool.close());
  for (let i = 0; i < 3; i++)
    assert.equal((await pool.request('POST', '/x', HEAD, '{}')).header('x-line-request-id'), 'tls');
  assert.equal(connections, 1);
  const untrusted = new HttpPool(url, { connections: 1, timeoutMs: 5000 });
  await assert.rejects(
    untrusted.request('POST', '/x', HEAD, '{}'),
    (e) => e instanceof TransportError && /certificate/.test(e.message),
  );
});

test("with Node told to use the proxy variables, sends go through the SDK's fetch, which honours them", async () => {
  const agents: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    agents.push(req.headers['sec-fetch-mode'] ? 'fetch' : 'pool');
    req.resume().on('end', () => res.writeHead(200, { 'x-line-request-id': 'r' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(r))));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new LineSender({ channelAccessToken: 't', baseURL }).send(batch());
  process.env.NODE_USE_ENV_PROXY = '1';
  try {
    await new LineSender({ channelAccessToken: 't', baseURL }).send(batch());
  } finally {
    delete process.env.NODE_USE_ENV_PROXY;
  }
  assert.deepEqual(agents, ['pool', 'fetch']);
});
