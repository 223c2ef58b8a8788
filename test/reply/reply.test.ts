// The welcome by reply, end to end (issue 22 item 1): the LINE webhook (its Deno handler,
// run here under Node) against the loopback LINE server and the real PostgreSQL server,
// with whole ticks after it. Replied once and never pushed; a used or expired token or a
// 400: pushed by the next tick, once; no answer: neither; a redelivered webhook replies once.
import { afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';

// The webhook is Deno code (imports end in .ts): loaded as vitest loads it, typed here by hand.
const edge = async <T>(path: string) => (await import(`../../supabase/functions/${path}`)) as T;
type EventRow = Record<string, unknown>;
interface EventSink {
  insert(rows: EventRow[]): Promise<number>;
}
const { handleLineWebhook } = await edge<{ handleLineWebhook: (req: Request, deps: unknown) => Promise<Response> }>(
  'line-webhook/handler.ts',
);
const { lineReplier } = await edge<{
  lineReplier: (o: { channelAccessToken: string; baseUrl: string; timeoutMs: number }) => unknown;
}>('line-webhook/line-reply.ts');
const { SinkError } = await edge<{ SinkError: new (code: string) => Error }>('_shared/events.ts');

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const SECRET = 'webhook-secret';
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const WELCOME = {
  id: 'welcome',
  version: 1,
  entry: { trigger: { type: 'follow' } },
  sendWindow: { start: '09:00', end: '21:00' },
  steps: [
    {
      id: 'hello',
      type: 'message',
      reply: true,
      sendWindow: null,
      messages: [{ type: 'text', text: 'ようこそ、{{user.displayName|お客様}}！' }],
    },
    { id: 'day1', type: 'message', wait: { after: { days: 1 } }, messages: [{ type: 'text', text: 'Day 1' }] },
  ],
};
const scenario = (definition: unknown = WELCOME) => {
  const r = validateScenarioText('scenarios/welcome.json', JSON.stringify(definition));
  assert.deepEqual(r.issues, []);
  return compileScenario(r.scenario!);
};

/** Events into public.events as the Supabase sink inserts them (status columns only for set-aside rows). */
function pgSink(db: SqlRpc): EventSink {
  return {
    async insert(rows: EventRow[]) {
      try {
        const inserted = await db.query(
          `insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key, status, status_reason)
           select x.line_user_id, x.member_id, x.type, x.properties, x.occurred_at, x.source, x.idempotency_key, coalesce(x.status, 'new'), x.status_reason
           from jsonb_to_recordset($1::jsonb) as x(line_user_id text, member_id text, type text, properties jsonb, occurred_at timestamptz, source text, idempotency_key text, status text, status_reason text)
           on conflict (idempotency_key) do nothing returning id`,
          [JSON.stringify(rows)],
        );
        return inserted.length;
      } catch (error) {
        throw new SinkError((error as { code?: string }).code ?? 'unknown');
      }
    },
  };
}

async function setup(...definitions: unknown[]) {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
  const line = await new LineServer({ now: clock.now }).start();
  const db = await serverStore();
  cleanups.push(() => line.stop(), db.drop);
  const scenarios = (definitions.length ? definitions : [WELCOME]).map((d) => scenario(d));
  const sender = new LineSender({ channelAccessToken: line.token, baseURL: line.url, backoffMs: 5, timeoutMs: 500 });
  const tick = () => runTick({ store: db.store, sender, scenarios, now: clock.now });
  await tick(); // registers the scenario: it runs from now
  clock.advance(60_000);
  const deps = {
    channelSecret: SECRET,
    sink: pgSink(db.db),
    now: clock.now,
    reply: {
      rpc: (fn: string, p: Record<string, unknown>) => db.db.call(fn, p),
      sendReply: lineReplier({ channelAccessToken: line.token, baseUrl: line.url, timeoutMs: 500 }),
      now: clock.now,
    },
  };
  /** LINE posts a follow (signed), with a reply token it issued. */
  const follow = async (
    user: string,
    options: { id?: string; token?: string; at?: number; unblocked?: boolean } = {},
  ) => {
    const body = JSON.stringify({
      destination: 'U0',
      events: [
        {
          type: 'follow',
          mode: 'active',
          timestamp: options.at ?? clock.t,
          source: { type: 'user', userId: user },
          webhookEventId: options.id ?? `01F${user.slice(-8)}`,
          deliveryContext: { isRedelivery: false },
          replyToken: options.token ?? line.issueReplyToken(user),
          follow: { isUnblocked: options.unblocked ?? false },
        },
      ],
    });
    const signature = createHmac('sha256', SECRET).update(body).digest('base64');
    const res = await handleLineWebhook(
      new Request('http://localhost/line-webhook', {
        method: 'POST',
        headers: { 'x-line-signature': signature },
        body,
      }),
      deps,
    );
    assert.equal(res.status, 200);
  };
  const replies = async () =>
    await db.db.query<{ status: string; reason: string | null }>(
      'select status, reason from replies order by created_at',
    );
  const pushed = (user: string) => line.inbox(user).map((m) => (m[0] as { text: string }).text);
  const replied = (user: string) => line.replyInbox(user).map((m) => (m[0] as { text: string }).text);
  return { clock, line, db: db.db, tick, follow, replies, pushed, replied };
}

test('a follow is answered by reply at once, rendered as the engine renders it; the ticks after never push it, and go on with the next step', async () => {
  const { clock, db, tick, follow, replies, pushed, replied } = await setup();
  await db.query(`insert into line_users (line_user_id, attributes) values ($1, '{"displayName": "Aki"}')`, [U(1)]);
  await follow(U(1));
  await follow(U(2));
  assert.deepEqual(replied(U(1)), ['ようこそ、Aki！']);
  assert.deepEqual(replied(U(2)), ['ようこそ、お客様！'], 'the fallback, as the engine renders it');
  await follow(U(1)); // LINE redelivers the webhook
  assert.equal(replied(U(1)).length, 1, 'a redelivered webhook replies once');
  assert.deepEqual(
    (await replies()).map((r) => r.status),
    ['sent', 'sent'],
  );

  clock.advance(60_000);
  await tick();
  assert.deepEqual([pushed(U(1)), pushed(U(2))], [[], []], 'the tick takes the follow in and pushes nothing');
  const enrollments = await db.query<{ n: number }>(`select count(*)::int as n from enrollments`);
  assert.equal(enrollments[0]!.n, 2, 'the tick enrolled nobody twice');
  clock.advance(24 * 3_600_000);
  await tick();
  assert.deepEqual([pushed(U(1)), pushed(U(2))], [['Day 1'], ['Day 1']], 'the scenario goes on');
  const kinds = await db.query<{ kind: string; status: string }>(
    `select kind, status from deliveries where line_user_id = $1 order by due_at`,
    [U(1)],
  );
  assert.deepEqual(
    kinds.map((k) => [k.kind, k.status]),
    [
      ['reply', 'sent'],
      ['send', 'sent'],
    ],
  );
});

test('a used or expired reply token, or LINE refusing the reply (400): the next tick pushes the step, once; the reason is recorded', async () => {
  const { clock, line, tick, follow, replies, pushed, replied } = await setup();
  const used = line.issueReplyToken(U(9));
  await follow(U(9), { token: used }); // its own event used it
  await follow(U(1), { token: used });
  const expiring = line.issueReplyToken(U(2), 0);
  clock.advance(1);
  await follow(U(2), { token: expiring });
  line.replyFaults.push({ kind: 'status', status: 400, body: { message: 'The request body has 1 error(s)' } });
  await follow(U(3));
  assert.deepEqual([replied(U(1)), replied(U(2)), replied(U(3))], [[], [], []]);
  const reasons = (await replies()).map((r) => `${r.status}: ${r.reason}`);
  assert.deepEqual(reasons, [
    'sent: null',
    'failed: LINE answered 400: Invalid reply token',
    'failed: LINE answered 400: Invalid reply token',
    'failed: LINE answered 400: The request body has 1 error(s)',
  ]);
  clock.advance(60_000);
  await tick();
  await tick();
  for (const user of [U(1), U(2), U(3)]) assert.deepEqual(pushed(user), ['ようこそ、お客様！'], 'pushed once');
  assert.deepEqual(pushed(U(9)), [], 'replied, not pushed');
});

test('a reply without an answer (a dropped connection, a timeout, a 5xx) is never followed by a push: at most once', async () => {
  const { clock, line, db, tick, follow, replies, pushed, replied } = await setup();
  line.replyFaults.push({ kind: 'accept-then-drop' }, { kind: 'delay', ms: 1500 }, { kind: 'status', status: 500 });
  await follow(U(1));
  await follow(U(2));
  await follow(U(3));
  assert.deepEqual(replied(U(1)), ['ようこそ、お客様！'], 'LINE delivered the first, then dropped the connection');
  assert.deepEqual(
    (await replies()).map((r) => r.status),
    ['unknown', 'unknown', 'unknown'],
  );
  clock.advance(60_000);
  await tick();
  for (const user of [U(1), U(2), U(3)]) assert.deepEqual(pushed(user), [], 'not pushed');
  const [d] = await db.query<{ status: string; reason: string }>(
    `select status, reason from deliveries where kind = 'reply' limit 1`,
  );
  assert.equal(d!.status, 'sent');
  assert.match(d!.reason, /never pushed/);
});

test('a follow too old to answer, an unblock the scenario does not take: no reply, and the tick does what it would have', async () => {
  const { clock, tick, follow, replies, pushed, replied } = await setup();
  await follow(U(1), { at: clock.t - 120_000 });
  await follow(U(2), { unblocked: true });
  assert.deepEqual([replied(U(1)), replied(U(2))], [[], []]);
  assert.deepEqual(
    (await replies()).map((r) => `${r.status}: ${r.reason}`),
    ['skipped: too late to reply (120 s after the follow)'],
  );
  clock.advance(60_000);
  await tick();
  assert.deepEqual(pushed(U(1)), [], 'a follow before the scenario ran enrolls nobody, by reply or by push');
  assert.deepEqual(pushed(U(2)), [], 'an unblock: not in this scenario (includeUnblocked is false)');
  await follow(U(3), { at: clock.t - 55_000 });
  assert.deepEqual(replied(U(3)), []);
  await tick();
  assert.deepEqual(pushed(U(3)), ['ようこそ、お客様！'], 'too late to reply: pushed by the tick');
});

test('a follow entering two scenarios with reply steps: the higher priority replies, the other is pushed by the tick; nothing twice', async () => {
  const second = {
    ...WELCOME,
    id: 'coupon',
    priority: 10,
    steps: [{ ...WELCOME.steps[0], id: 'coupon-now', messages: [{ type: 'text', text: 'Coupon' }] }],
  };
  const { clock, tick, follow, pushed, replied } = await setup({ ...WELCOME, priority: 90 }, second);
  await follow(U(1));
  assert.deepEqual(replied(U(1)), ['ようこそ、お客様！']);
  clock.advance(60_000);
  await tick();
  await tick();
  assert.deepEqual(pushed(U(1)), ['Coupon'], 'the other scenario pushed, once; the welcome never');
});

test('a reply step the planner cannot render (no value, no fallback): no reply, the reason recorded; the tick records the same failure', async () => {
  const strict = {
    ...WELCOME,
    steps: [{ ...WELCOME.steps[0], messages: [{ type: 'text', text: 'Hi {{user.displayName}}' }] }, WELCOME.steps[1]],
  };
  const { clock, db, tick, follow, replies, pushed, replied } = await setup(strict);
  await follow(U(1));
  assert.deepEqual(replied(U(1)), []);
  const [row] = await replies();
  assert.equal(row!.status, 'skipped');
  assert.match(row!.reason!, /^welcome: no value for user\.displayName and no fallback/);
  clock.advance(60_000);
  await tick();
  assert.deepEqual(pushed(U(1)), []);
  const failed = await db.query<{ kind: string; reason: string }>(
    `select kind, reason from deliveries where step_id = 'hello'`,
  );
  assert.deepEqual(
    failed.map((d) => d.kind),
    ['fail'],
  );
  assert.match(failed[0]!.reason, /no value for user\.displayName/);
});
