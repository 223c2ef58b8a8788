// A small HTTP/1.1 client for LINE's send endpoints: a pool of keep-alive connections
// (TLS for https), one write per request, and an answer parsed straight from the socket's
// bytes. Global fetch, which the SDK uses, spent ~600 µs of CPU a request on Request,
// Headers and web-stream objects; this spends a fifth of that, so a slow runner core still
// paces at LINE's limit. Any answer LINE gives (any status) resolves; a request that got no
// complete answer (refused, dropped, timed out, garbled) rejects with a TransportError: it
// may have reached LINE, so the caller retries it with the same X-Line-Retry-Key.
//
// Why not undici's Pool (Node's own client, as a library)? Measured side by side by
// `npm run bench -- line --transports` over the same 100,000 pushes (bench/undici-caller.ts,
// its request API, same body and headers): 57 µs of CPU a request here against 75 µs
// (1.32×) in one run, 56 µs against 80 µs (1.43×) in another (2 cores at load 17, both
// runs alike), and a peak RSS of 229-238 MiB against 153. The rule was to adopt it within
// 1.15× of this one's CPU; it is not, so this client stays, and the SDK's fetch (which
// honours the proxy variables) stays the transport behind a proxy.
import net from 'node:net';
import tls from 'node:tls';

export interface LineAnswer {
  status: number;
  /** The reason phrase ("Bad Request"); HTTP/2 and some servers send none. */
  statusText: string;
  /** A header's value, by name in any case; a repeated header's values joined with ", ". */
  header(name: string): string | undefined;
  body: string;
}

/** No complete answer: the request may or may not have reached LINE. */
export class TransportError extends Error {}

export interface PoolOptions {
  /** Connections at most; requests beyond them wait for one to free. */
  connections: number;
  /** From the request's start (waiting for a connection included) to the answer's last byte. */
  timeoutMs: number;
  /** An idle connection older than this is closed rather than reused (servers close them first). */
  idleMs?: number | undefined;
  /** Extra TLS options (a test's own CA). */
  tls?: tls.ConnectionOptions | undefined;
}

const MAX_HEAD_BYTES = 64 * 1024;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_CODE = /^[1-9]\d\d$/;
const DIGITS = /^\d+$/;
const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Refuses a header that would break the request's framing (a token with a newline, say). */
export function checkHeader(name: string, value: string): void {
  if (!HEADER_NAME.test(name)) throw new TypeError(`invalid HTTP header name "${name}"`);
  if (!HEADER_VALUE.test(value)) {
    throw new TypeError(`the HTTP header ${name} holds a line break or a control character`);
  }
}

interface Pending {
  method: string;
  deadline: number;
  resolve: (answer: LineAnswer) => void;
  reject: (error: Error) => void;
}

/** A request waiting for a free connection. */
interface Queued {
  pending: Pending;
  text: Buffer;
}

/**
 * An answer's header section, searched by name when asked: an answer is read for three or
 * four of its headers, so they are not all split into strings (this runs for every request).
 */
class AnswerHead {
  private readonly lower: string;

  constructor(private readonly text: string) {
    this.lower = text.toLowerCase();
  }

  get(name: string): string | undefined {
    const key = `\r\n${name.toLowerCase()}:`;
    let value: string | undefined;
    for (let at = this.lower.indexOf(key); at >= 0; at = this.lower.indexOf(key, at + key.length)) {
      const start = at + key.length;
      const end = this.lower.indexOf('\r\n', start);
      const one = this.text.slice(start, end < 0 ? this.text.length : end).trim();
      value = value === undefined ? one : `${value}, ${one}`;
    }
    return value;
  }
}

class Answer implements LineAnswer {
  constructor(
    readonly status: number,
    readonly statusText: string,
    private readonly head: AnswerHead,
    readonly body: string,
  ) {}

  header(name: string): string | undefined {
    return this.head.get(name);
  }
}

/** The value of a hexadecimal digit's byte, or -1. */
function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 97 && byte <= 102) return byte - 87;
  if (byte >= 65 && byte <= 70) return byte - 55;
  return -1;
}

/** Parses one answer from the bytes of a connection. */
class AnswerParser {
  private buffer: Buffer | undefined;
  private status = 0;
  private statusText = '';
  private head: AnswerHead | undefined;
  /** 'head', then the body by content-length, by chunks, or until the connection closes. */
  private phase: 'head' | 'length' | 'chunks' | 'close' = 'head';
  private remaining = 0;
  private readonly body: Buffer[] = [];
  keepAlive = true;

  constructor(private readonly method: string) {}

  /** Feeds bytes; returns the answer once complete. Throws on bytes that are not HTTP. */
  feed(chunk: Buffer): LineAnswer | undefined {
    this.buffer = this.buffer?.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.phase === 'head') {
        if (!this.readHead()) return undefined;
      } else if (this.phase === 'length') {
        const take = Math.min(this.remaining, this.buffer.length);
        if (take > 0) this.body.push(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        this.remaining -= take;
        return this.remaining === 0 ? this.finish() : undefined;
      } else if (this.phase === 'chunks') {
        if (!this.readChunk()) return undefined;
        if (this.phase !== 'chunks') return this.finish();
      } else {
        this.body.push(this.buffer);
        this.buffer = undefined;
        return undefined;
      }
    }
  }

  /** The connection ended: an answer framed by the close is complete, any other is not. */
  end(): LineAnswer | undefined {
    return this.phase === 'close' ? this.finish() : undefined;
  }

  /** Bytes after the answer: the server sent more than one answer to one request. */
  get leftover(): number {
    return this.buffer?.length ?? 0;
  }

  private readHead(): boolean {
    const buffer = this.buffer!;
    const end = buffer.indexOf(CRLF2);
    if (end < 0) {
      if (buffer.length > MAX_HEAD_BYTES) throw new TransportError('LINE answered with a header section over 64 KiB');
      return false;
    }
    // The status line, then the headers, which are looked up by name (AnswerHead).
    const text = buffer.toString('latin1', 0, end);
    this.buffer = buffer.subarray(end + 4);
    const firstEnd = text.indexOf('\r\n');
    const statusLine = firstEnd < 0 ? text : text.slice(0, firstEnd);
    const code = statusLine.slice(9, 12);
    const status = Number(code);
    const shaped = statusLine.startsWith('HTTP/1.') && statusLine[8] === ' ' && STATUS_CODE.test(code);
    if (!shaped || (statusLine.length > 12 && statusLine[12] !== ' ')) {
      throw new TransportError('LINE answered with something that is not HTTP/1.1');
    }
    const minor = statusLine[7];
    if (minor !== '0' && minor !== '1') throw new TransportError('LINE answered with something that is not HTTP/1.1');
    // 1xx answers are interim (100 Continue, 103 Early Hints): the real one follows.
    if (status >= 100 && status < 200) return true;
    const head = new AnswerHead(text);
    this.status = status;
    this.statusText = statusLine.slice(13);
    this.head = head;
    const connection = head.get('connection')?.toLowerCase() ?? '';
    this.keepAlive = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const length = head.get('content-length');
    if (this.method === 'HEAD' || status === 204 || status === 304) this.phase = 'length';
    else if (head.get('transfer-encoding')?.toLowerCase().includes('chunked')) this.phase = 'chunks';
    else if (length !== undefined) {
      if (!DIGITS.test(length)) throw new TransportError('LINE answered with an invalid Content-Length');
      this.phase = 'length';
      this.remaining = Number(length);
    } else {
      this.phase = 'close';
      this.keepAlive = false;
    }
    return true;
  }

  /** One chunk (or the last one with its trailers); false when more bytes are needed. */
  private readChunk(): boolean {
    const buffer = this.buffer!;
    const lineEnd = buffer.indexOf(CRLF);
    if (lineEnd < 0) {
      if (buffer.length > MAX_HEAD_BYTES) throw new TransportError('LINE answered with a malformed chunk');
      return false;
    }
    // The size in hexadecimal, then optionally ";extensions" (or spaces) up to the line's end.
    let size = 0;
    let digits = 0;
    for (let value = hexValue(buffer[0]!); digits < lineEnd && value >= 0; value = hexValue(buffer[++digits]!)) {
      size = size * 16 + value;
    }
    const next = buffer[digits];
    if (digits === 0 || digits > 8 || (digits < lineEnd && next !== 59 && next !== 32 && next !== 9)) {
      throw new TransportError('LINE answered with a malformed chunk size');
    }
    if (size === 0) {
      // Trailers end with an empty line; "0\r\n\r\n" has none.
      const trailersEnd = buffer.indexOf(CRLF2, lineEnd);
      if (trailersEnd < 0) return false;
      this.buffer = buffer.subarray(trailersEnd + 4);
      this.phase = 'length';
      return true;
    }
    const dataStart = lineEnd + 2;
    if (buffer.length < dataStart + size + 2) return false;
    if (buffer[dataStart + size] !== 13 || buffer[dataStart + size + 1] !== 10) {
      throw new TransportError('LINE answered with a malformed chunk');
    }
    this.body.push(buffer.subarray(dataStart, dataStart + size));
    this.buffer = buffer.subarray(dataStart + size + 2);
    return true;
  }

  private finish(): LineAnswer {
    const body = this.body.length === 1 ? this.body[0]!.toString('utf8') : Buffer.concat(this.body).toString('utf8');
    return new Answer(this.status, this.statusText, this.head!, body);
  }
}

/** One keep-alive connection: one request at a time (no pipelining). */
class Connection {
  pending: Pending | undefined;
  idleSince = 0;
  closed = false;
  private parser: AnswerParser | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly release: (connection: Connection, reusable: boolean) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onClose());
    socket.on('close', () => this.onClose());
    socket.on('error', (error) => this.fail(new TransportError(`connection to LINE failed: ${error.message}`)));
  }

  send(pending: Pending, text: Buffer): void {
    this.pending = pending;
    this.parser = new AnswerParser(pending.method);
    this.socket.ref();
    this.socket.write(text);
  }

  /** Ends the request in flight (a timeout) and the connection with it. */
  fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    this.parser = undefined;
    this.destroy();
    pending?.reject(error);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.release(this, false);
  }

  private onData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending || !this.parser) return this.fail(new TransportError('LINE sent bytes nobody asked for'));
    let answer: LineAnswer | undefined;
    try {
      answer = this.parser.feed(chunk);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (answer) this.complete(pending, answer, this.parser.keepAlive && this.parser.leftover === 0);
  }

  private onClose(): void {
    const pending = this.pending;
    if (!pending) return this.destroy();
    const answer = this.parser?.end();
    if (answer) return this.complete(pending, answer, false);
    this.fail(new TransportError('LINE closed the connection before answering'));
  }

  private complete(pending: Pending, answer: LineAnswer, reusable: boolean): void {
    this.pending = undefined;
    this.parser = undefined;
    if (reusable) {
      this.idleSince = performance.now();
      // An idle connection must not keep the process alive after the tick.
      this.socket.unref();
      this.release(this, true);
    } else {
      this.destroy();
    }
    pending.resolve(answer);
  }
}

/** Keep-alive connections to one origin. */
export class HttpPool {
  private readonly url: URL;
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private readonly queue: Queued[] = [];
  private open = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly hostHeader: string;

  constructor(
    baseURL: string,
    private readonly options: PoolOptions,
  ) {
    const url = URL.parse(baseURL);
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new TypeError(
        `LINE's base URL (LINE_API_BASE_URL) must be an http or https URL such as https://api.line.me, got "${baseURL}"`,
      );
    }
    this.url = url;
    this.hostHeader = this.url.host;
  }

  /**
   * Sends one request. `headerLines` are "Name: value\r\n" lines already checked with
   * checkHeader; Host and Content-Length are added here.
   */
  request(method: 'GET' | 'POST', path: string, headerLines: string, body = ''): Promise<LineAnswer> {
    // One buffer: the head in latin1 (header bytes, as fetch sends them), the body in UTF-8.
    const bodyBytes = Buffer.byteLength(body);
    const length = body === '' && method === 'GET' ? '' : `Content-Length: ${bodyBytes}\r\n`;
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${headerLines}${length}\r\n`;
    const text = Buffer.allocUnsafe(head.length + bodyBytes);
    text.write(head, 0, 'latin1');
    text.write(body, head.length, 'utf8');
    return new Promise<LineAnswer>((resolve, reject) => {
      const pending: Pending = { method, deadline: performance.now() + this.options.timeoutMs, resolve, reject };
      const connection = this.connection();
      if (connection) this.dispatch(connection, pending, text);
      else this.queue.push({ pending, text });
      this.watch();
    });
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    for (const c of [...this.idle, ...this.busy]) c.fail(new TransportError('the LINE connection pool was closed'));
    for (const q of this.queue.splice(0)) q.pending.reject(new TransportError('the LINE connection pool was closed'));
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** An idle connection still fresh, or a new one while under the limit. */
  private connection(): Connection | undefined {
    const idleMs = this.options.idleMs ?? 4000;
    const now = performance.now();
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (!c.closed && now - c.idleSince < idleMs) return c;
      c.destroy();
    }
    if (this.open >= this.options.connections) return undefined;
    this.open++;
    return this.newConnection();
  }

  private newConnection(): Connection {
    return new Connection(this.connect(), (connection, reusable) => this.release(connection, reusable));
  }

  private connect(): net.Socket {
    const port = Number(this.url.port || (this.url.protocol === 'https:' ? 443 : 80));
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    if (this.url.protocol === 'http:') return net.connect({ host, port });
    const servername = net.isIP(host) ? undefined : host;
    const name = servername ? { servername } : {};
    return tls.connect({ host, port, ...name, ALPNProtocols: ['http/1.1'], ...this.options.tls });
  }

  private dispatch(connection: Connection, pending: Pending, text: Buffer): void {
    this.busy.add(connection);
    connection.send(pending, text);
  }

  /** A connection is free again (reusable) or gone (destroyed, exactly once). */
  private release(connection: Connection, reusable: boolean): void {
    this.busy.delete(connection);
    if (reusable) {
      const next = this.queue.shift();
      if (next) this.dispatch(connection, next.pending, next.text);
      else this.idle.push(connection);
      return;
    }
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    this.open--;
    // A request waiting for a connection gets a new one in place of this.
    if (this.queue.length && this.open < this.options.connections) {
      this.open++;
      const next = this.queue.shift()!;
      this.dispatch(this.newConnection(), next.pending, next.text);
    }
  }

  /** One timer for every request's deadline, rather than a timer per request. */
  private watch(): void {
    if (this.sweeper) return;
    const every = Math.max(5, Math.min(250, this.options.timeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = performance.now();
    const message = `no answer from LINE within ${this.options.timeoutMs} ms`;
    for (const c of this.busy) if (c.pending && c.pending.deadline <= now) c.fail(new TransportError(message));
    while (this.queue.length && this.queue[0]!.pending.deadline <= now) {
      this.queue.shift()!.pending.reject(new TransportError(message));
    }
    if (this.busy.size === 0 && this.queue.length === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
