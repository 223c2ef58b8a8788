// A survey tap the webhook set aside (its data broke the grammar) is kept with what LINE
// sent and the reason, and is replayed as docs/events.md says: the event it should have been
// written over it, status new; the next tick takes it in and the answer is stored.
import { afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { serverStore } from '../support/db.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

// The webhook is Deno code (imports end in .ts): loaded as vitest loads it, typed here by hand.
const edge = async <T>(path: string) => (await import(`../../supabase/functions/${path}`)) as T;
const { handleLineWebhook } = await edge<{ handleLineWebhook: (req: Request, deps: unknown) => Promise<Response> }>(
  'line-webhook/handler.ts',
);

const USER = `U${'a'.repeat(32)}`;
const NOW = Date.parse('2026-11-25T02:00:00Z');

test('a tap set aside for a question id no condition can read is seen with its reason, and replayed by the documented update', async () => {
  const db = await serverStore();
  cleanups.push(db.drop);
  const sink = {
    insert: async (rows: Record<string, unknown>[]) =>
      (
        await db.db.query(
          `insert into events (line_user_id, type, properties, occurred_at, source, idempotency_key, status, status_reason)
           select x.line_user_id, x.type, x.properties, x.occurred_at, x.source, x.idempotency_key, coalesce(x.status, 'new'), x.status_reason
           from jsonb_to_recordset($1::jsonb) as x(line_user_id text, type text, properties jsonb, occurred_at timestamptz, source text, idempotency_key text, status text, status_reason text)
           on conflict (idempotency_key) do nothing returning id`,
          [JSON.stringify(rows)],
        )
      ).length,
  };
  const body = JSON.stringify({
    events: [
      {
        type: 'postback',
        timestamp: NOW,
        source: { type: 'user', userId: USER },
        webhookEventId: 'pb-1',
        postback: { data: 'survey=onboarding&q=the-interest&a=skincare' },
      },
    ],
  });
  const signature = createHmac('sha256', 's').update(body).digest('base64');
  const res = await handleLineWebhook(
    new Request('http://localhost/line-webhook', { method: 'POST', headers: { 'x-line-signature': signature }, body }),
    { channelSecret: 's', sink, now: () => NOW },
  );
  assert.equal(res.status, 200);
  const [aside] = await db.db.query<{ id: string; type: string; properties: unknown; status_reason: string }>(
    `select id, type, properties, status_reason from events where status = 'set_aside'`,
  );
  assert.equal(aside!.type, 'postback');
  assert.deepEqual(aside!.properties, { data: 'survey=onboarding&q=the-interest&a=skincare' });
  assert.match(aside!.status_reason, /q must be 1 to 64 letters, digits or _/);

  await db.db.query(
    `update events
     set type = 'survey_answered',
         properties = '{"survey": "onboarding", "question": "interest", "answer": "skincare"}',
         status = 'new', status_reason = null, processed_at = null
     where id = $1`,
    [aside!.id],
  );
  await runTick({ store: db.store, sender: new NoLineSender(), scenarios: [], now: () => NOW + 60_000 });
  const [user] = await db.db.query<{ answers: unknown }>(`select answers from line_users where line_user_id = $1`, [
    USER,
  ]);
  assert.deepEqual(user!.answers, { interest: 'skincare' });
});
