// A stand-in for Supabase's HTTP API, as small as the calls the engine makes: POST
// /rest/v1/rpc/<fn> with {"p": ...}, answered by calling the SQL function on a real
// Postgres. It behaves as PostgREST does for those calls: the apikey header is required,
// errors come back as {code, message, details, hint} with PostgREST's statuses, an unknown
// function is 404 PGRST202, and each statement is cut off after 8 s (the authenticator's
// statement_timeout on Supabase).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

export class PostgrestStandIn {
  private server: Server | undefined;
  private pool: pg.Pool;
  url = '';
  readonly calls: string[] = [];

  constructor(
    databaseUrl: string,
    readonly key = 'sb_secret_test',
  ) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    // An idle connection ended by the server (a test database dropped with force while a
    // test's clean-up runs) is not an error of the test; PostgREST's pool recovers the same way.
    this.pool.on('error', () => {});
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(body));
        };
        if (req.headers.apikey !== this.key)
          return send(401, { code: 'PGRST301', message: 'Invalid API key', details: null, hint: null });
        const match = /^\/rest\/v1\/rpc\/([a-z_]+)$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !match)
          return send(404, {
            code: 'PGRST125',
            message: 'Invalid path specified in request URL',
            details: null,
            hint: null,
          });
        const fn = match[1]!;
        this.calls.push(fn);
        let args: { p?: unknown };
        try {
          args = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          return send(400, { code: 'PGRST102', message: 'Empty or invalid json', details: null, hint: null });
        }
        void (async () => {
          const client = await this.pool.connect();
          try {
            const exists = await client.query(`select 1 from pg_proc where proname = $1 and pronargs = 1`, [fn]);
            if (!exists.rowCount)
              return send(404, {
                code: 'PGRST202',
                message: `Could not find the function public.${fn}(p) in the schema cache`,
                details: null,
                hint: null,
              });
            await client.query('begin');
            await client.query(`set local statement_timeout = '8s'`);
            const { rows } = await client.query(`select ${fn}($1::jsonb) as r`, [JSON.stringify(args.p ?? null)]);
            await client.query('commit');
            send(200, rows[0].r);
          } catch (e) {
            await client.query('rollback').catch(() => {});
            const err = e as { code?: string; message?: string; detail?: string; hint?: string };
            send(err.code === '57014' ? 500 : 400, {
              code: err.code ?? '',
              message: err.message ?? String(e),
              details: err.detail ?? null,
              hint: err.hint ?? null,
            });
          } finally {
            client.release();
          }
        })();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
    await this.pool.end();
  }
}
