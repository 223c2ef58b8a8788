// LINE coupons (issue 26 item 3): the coupon message as LINE's OpenAPI defines it
// (CouponMessage: couponId, deliveryTag at most 30), refused at file:line:col when malformed;
// validate --line checks each id against the channel's coupons (GET /v2/bot/coupon through
// the SDK, every page) on the loopback LINE server; a tick sends a coupon, and a coupon LINE
// does not know fails that step's batch alone with LINE's reason.
import { afterAll, expect, test } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateScenarios } from '../../src/commands/validate.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { scenarioJsonSchemaText } from '../../src/scenario/json-schema.js';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';
import { pgliteStore } from '../support/db.js';

const servers: LineServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;

const offer = (id: string, event: string, coupon: Record<string, unknown>): Scenario =>
  ({
    id,
    version: 1,
    entry: { trigger: { type: 'event', event } },
    steps: [
      {
        id: 'offer',
        type: 'message',
        messages: [
          { type: 'text', text: 'a gift for you' },
          { type: 'coupon', ...coupon },
        ],
      },
    ],
  }) as Scenario;

const issues = (s: Scenario) =>
  validateScenarioText('scenarios/offer.json', JSON.stringify(s, null, 2)).issues.map(formatIssue);

test('a coupon message validates; a malformed id or a long deliveryTag is refused at its line with the fix', () => {
  expect(issues(offer('offer', 'visited', { couponId: '01JF8Q0Y2ZK3V6W8X9A1B2C3D4' }))).toEqual([]);
  expect(issues(offer('offer', 'visited', { couponId: 'c_1', deliveryTag: 'review' }))).toEqual([]);
  for (const couponId of ['', 'has space', 'x'.repeat(101), 'クーポン'])
    expect(issues(offer('offer', 'visited', { couponId }))).toEqual([
      expect.stringMatching(
        /^scenarios\/offer\.json:21:11 \$\.steps\[0\]\.messages\[1\]\.couponId: a coupon id is the id LINE gave the coupon .*GET \/v2\/bot\/coupon/,
      ),
    ]);
  expect(issues(offer('offer', 'visited', { couponId: 'c_1', deliveryTag: 'x'.repeat(31) }))[0]).toMatch(
    /deliveryTag: a coupon deliveryTag is at most 30 characters/,
  );
  expect(issues(offer('offer', 'visited', {}))[0]).toMatch(/messages\[1\]\.couponId/);
});

async function folder(scenarios: Scenario[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-coupons-'));
  await writeFile(join(dir, 'scenario.schema.json'), scenarioJsonSchemaText());
  for (const s of scenarios) await writeFile(join(dir, `${s.id}.json`), JSON.stringify(s, null, 2));
  return dir;
}

test('validate --line finds a coupon on any page of the channel, and names one it does not have at its line', async () => {
  const server = await new LineServer().start();
  servers.push(server);
  for (let i = 0; i < 250; i++) server.coupons.set(`c_${i}`, `coupon ${i}`);
  const dir = await folder([
    offer('known', 'visited', { couponId: 'c_249' }),
    offer('unknown', 'visited', { couponId: 'c_2500' }),
  ]);
  const outcome = await validateScenarios({ dir, line: { channelAccessToken: server.token, baseURL: server.url } });
  expect(outcome.lineCheck).toMatchObject({ checked: true, references: 2 });
  expect(outcome.result.issues.map(formatIssue)).toEqual([
    expect.stringMatching(
      /unknown\.json:21:11 \$\.steps\[0\]\.messages\[1\]\.couponId: there is no coupon "c_2500" on this LINE channel\. .*Create it in LINE Official Account Manager .* \[coupon\]$/,
    ),
  ]);
  // Three pages of 100 were read.
  expect(server.requests.filter((r) => r.path.startsWith('/v2/bot/coupon')).length).toBe(3);
});

test('validate --line with a token LINE refuses says so, and the format was still checked', async () => {
  const server = await new LineServer().start();
  servers.push(server);
  const dir = await folder([offer('known', 'visited', { couponId: 'c_1' })]);
  const outcome = await validateScenarios({ dir, line: { channelAccessToken: 'wrong', baseURL: server.url } });
  expect(outcome.lineCheck).toEqual({
    checked: false,
    error: expect.stringMatching(/^could not check the coupons on LINE: LINE refused the channel access token \(401\)/),
  });
});

test('a tick sends a coupon the channel has; a coupon LINE does not know fails that batch alone with its reason', async () => {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
  const server = await new LineServer({ now: clock.now }).start();
  servers.push(server);
  server.coupons.set('c_1', 'ten percent off');
  const loaded = loadScenarioTexts(
    [offer('good', 'visited', { couponId: 'c_1' }), offer('stale', 'reviewed', { couponId: 'c_gone' })].map((s) => ({
      file: `${s.id}.json`,
      text: JSON.stringify(s),
    })),
  );
  expect(loaded.issues).toEqual([]);
  const scenarios = loaded.scenarios.map((s) => s.compiled);
  const { store, db } = await pgliteStore();
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 500,
  });
  await runTick({ store, sender, scenarios, now: clock.now });
  clock.advance(60_000);
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'visited', to_timestamp($3 / 1000.0)), ($2, 'reviewed', to_timestamp($3 / 1000.0))`,
    [U(1), U(2), clock.t],
  );
  clock.advance(60_000);
  const r = await runTick({ store, sender, scenarios, now: clock.now });
  expect(server.inbox(U(1))).toEqual([
    [
      { type: 'text', text: 'a gift for you' },
      { type: 'coupon', couponId: 'c_1' },
    ],
  ]);
  expect(server.inbox(U(2))).toEqual([]);
  expect(r.counts.failures).toEqual([
    expect.objectContaining({
      scenarioId: 'stale',
      stepId: 'offer',
      count: 1,
      reason: expect.stringMatching(/request body has 1 error/),
    }),
  ]);
});
