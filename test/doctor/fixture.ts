// What doctor's tests share: a migrated database on the real server, the loopback LINE
// server with its webhook set to a stand-in of the line-webhook function (it checks LINE's
// signature with the channel secret, as the function does), and a scenario folder.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import type { Settings } from '../../src/commands/config.js';

export const CHANNEL_SECRET = 'loopback-channel-secret';

/** A stand-in of the line-webhook function: 200 for a body signed with the channel secret, else 401. */
export async function webhookReceiver(
  secret = CHANNEL_SECRET,
): Promise<{ origin: string; hits: number[]; stop: () => Promise<void> }> {
  const hits: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const want = createHmac('sha256', secret).update(Buffer.concat(chunks)).digest();
      const got = Buffer.from(String(req.headers['x-line-signature'] ?? ''), 'base64');
      const status =
        req.url !== '/functions/v1/line-webhook'
          ? 404
          : got.length === want.length && timingSafeEqual(got, want)
            ? 200
            : 401;
      hits.push(status);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

export interface DoctorFixture {
  db: Awaited<ReturnType<typeof serverStore>>;
  line: LineServer;
  receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  dir: string;
  settings: Settings;
  close: () => Promise<void>;
}

/** Everything set up right: doctor finds nothing to fix. `samples`: files of scenarios/ to copy. */
export async function healthySetup(samples = ['friend-welcome.json']): Promise<DoctorFixture> {
  const db = await serverStore({ max: 1 });
  const line = await new LineServer().start();
  const receiver = await webhookReceiver();
  line.webhook = { endpoint: `${receiver.origin}/functions/v1/line-webhook`, active: true };
  line.webhookSecret = CHANNEL_SECRET;
  const dir = await mkdtemp(join(tmpdir(), 'lsd-doctor-'));
  for (const s of ['scenario.schema.json', ...samples]) await copyFile(join('scenarios', s), join(dir, s));
  const settings: Settings = {
    DATABASE_URL: db.url,
    // The project's URL: where the webhook should point (the receiver stands in for it).
    SUPABASE_URL: receiver.origin,
    LINE_CHANNEL_ACCESS_TOKEN: line.token,
    LINE_API_BASE_URL: line.url,
  };
  return {
    db,
    line,
    receiver,
    dir,
    settings,
    close: async () => {
      await line.stop();
      await receiver.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
