// End to end: the bundled action (dist/index.js) started as the Actions runner starts it,
// from a copy of the repository's files with no node_modules, against the real Postgres
// server and the loopback LINE server, over a simulated week of events for every sample
// scenario. Every user's messages arrive in order, exactly once.
import { test, beforeAll, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { bareCheckout, runAction } from '../support/run-action.js';
import { localToInstant, HOUR, DAY, MINUTE } from '../../src/time/zoned.js';

const T0 = localToInstant('Asia/Tokyo', 2026, 11, 23, 9, 0); // a Monday, 09:00 in Tokyo
const at = (day: number, hour: number, minute = 0) => T0 + day * DAY + (hour - 9) * HOUR + minute * MINUTE;
const U = (name: string) => `U${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`;

interface Ev {
  at: number;
  user?: string;
  member?: string;
  type: string;
  properties?: Record<string, unknown>;
  key?: string;
}
const EVENTS: Ev[] = [
  { at: at(0, 10), user: 'follow', type: 'follow' },
  { at: at(0, 10, 5), user: 'ad', type: 'follow', properties: { route: 'ad-instagram' } },
  {
    at: at(0, 12),
    user: 'cart',
    type: 'cart_abandoned',
    properties: { productName: '白いスニーカー', total: 5000 },
    key: 'cart-1',
  },
  {
    at: at(0, 12),
    user: 'cart',
    type: 'cart_abandoned',
    properties: { productName: '白いスニーカー', total: 5000 },
    key: 'cart-1',
  }, // delivered twice by the shop
  { at: at(1, 8), user: 'cart', type: 'purchased', properties: { orderId: 'A-1' } },
  { at: at(0, 10, 30), user: 'seminar', type: 'follow', properties: { route: 'qr-seminar' } },
  { at: at(0, 11), user: 'vip', type: 'list_added', properties: { list: 'vip-2026' } },
  {
    at: at(0, 12),
    user: 'salon',
    type: 'reservation_made',
    properties: { reservationAt: new Date(at(3, 15)).toISOString(), reservationLabel: '11/26 15:00' },
  },
  { at: at(0, 11), user: 'sub', type: 'subscription_started', properties: { nextDelivery: '12/23' } },
  { at: at(0, 13), user: 'survey', type: 'survey_answered', properties: { survey: 'interests', category: 'skincare' } },
  { at: at(0, 14), user: 'ship', type: 'shipped', properties: { deliveryDate: '11/25', trackingNumber: 'T-1' } },
  { at: at(0, 15), user: 'fav', type: 'favorite_added', properties: { productName: '美容液', productId: 'p1' } },
  { at: at(2, 9), user: 'fav', type: 'price_dropped', properties: { productId: 'p1' } },
  { at: at(0, 16), user: 'trial', type: 'trial_purchased' },
  { at: at(0, 10), member: 'M-77', type: 'purchased', properties: { orderId: 'B-7' } }, // before the link
  {
    at: at(0, 17),
    user: 'linked',
    type: 'profile_updated',
    properties: { attributes: { region: 'tokyo', displayName: 'Hanako' } },
  },
  { at: at(0, 17, 30), user: 'linked', type: 'account_linked', properties: { memberId: 'M-77' } },
  { at: at(0, 10), user: 'leaver', type: 'follow' },
  { at: at(2, 12), user: 'leaver', type: 'unfollow' },
];

const EXPECTED: Record<string, string[]> = {
  follow: [
    'friend_welcome__welcome',
    'friend_welcome__day1_campaign',
    'friend_welcome__day5_reviews',
    'friend_welcome__coupon_*',
  ],
  ad: [
    'friend_welcome__welcome',
    'friend_welcome__day1_campaign',
    'friend_from_ad__day3_coupon',
    'friend_welcome__day5_reviews',
    'friend_welcome__coupon_*',
  ],
  cart: ['cart_abandoned__reminder', 'after_purchase__thanks', 'after_purchase__how_to_use'], // the survey is day 8 19:00, after the week
  seminar: [
    'friend_welcome__welcome',
    'offline_event_friend__thanks',
    'friend_welcome__day1_campaign',
    'offline_event_friend__m*' /* the unit name is shortened to LINE's 30 characters */,
    'friend_welcome__day5_reviews',
    'friend_welcome__coupon_*',
  ],
  vip: ['vip_list__invite'],
  salon: ['reservation__thanks', 'reservation__reminder', 'reservation__follow_up'],
  sub: ['subscription__welcome', 'subscription__day7'],
  survey: ['survey_answer__skincare'],
  ship: ['after_shipment__shipped_notice', 'after_shipment__first_use'],
  fav: ['favorite_added__related', 'favorite_added__price_drop'],
  trial: ['trial_purchase__how_to_use', 'trial_purchase__regular_coupon'],
  linked: [
    'after_purchase__thanks',
    'linked_members__store_invite',
    'after_purchase__how_to_use',
    'after_purchase__survey',
  ],
  leaver: ['friend_welcome__welcome', 'friend_welcome__day1_campaign'],
};

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** The checkout the runner would make: the action and the scenarios, no node_modules. */
let checkout = '';
beforeAll(async () => {
  const copy = await bareCheckout();
  cleanups.push(copy.remove);
  checkout = copy.dir;
});

test('a simulated week through the bundled action: every user gets their steps, in order, exactly once', async () => {
  const db = await serverStore();
  cleanups.push(db.drop);
  let now = T0;
  const line = await new LineServer({ now: () => now }).start();
  cleanups.push(() => line.stop());
  const env = { DATABASE_URL: db.url, LINE_CHANNEL_ACCESS_TOKEN: line.token, LINE_API_BASE_URL: line.url };
  const pending = [...EVENTS].sort((a, b) => a.at - b.at);
  let runs = 0;
  let lastSummary = '';
  const summaries: { now: number; summary: string }[] = [];
  for (; now <= T0 + 8 * DAY; now += 3 * HOUR) {
    while (pending.length && pending[0]!.at <= now) {
      const e = pending.shift()!;
      await db.db.query(
        `insert into events (line_user_id, member_id, type, properties, occurred_at, source, idempotency_key) values ($1, $2, $3, $4, to_timestamp($5 / 1000.0), 'e2e', $6) on conflict (idempotency_key) do nothing`,
        [e.user ? U(e.user) : null, e.member ?? null, e.type, JSON.stringify(e.properties ?? {}), e.at, e.key ?? null],
      );
    }
    const run = await runAction(
      { mode: 'run', scenarios: 'scenarios' },
      { dir: checkout, cwd: checkout, env: { ...env, LINE_STEP_DELIVERY_NOW: String(now) } },
    );
    runs++;
    assert.equal(run.code, 0, `tick at ${new Date(now).toISOString()} failed:\n${run.stdout}\n${run.stderr}`);
    lastSummary = run.summary;
    summaries.push({ now, summary: run.summary });
  }
  assert.ok(runs >= 64);
  for (const [name, expected] of Object.entries(EXPECTED)) {
    // In order of arrival; steps that arrive in the same tick, in name order.
    const got = line.received
      .filter((r) => r.to === U(name))
      .map((r) => ({ at: r.at, unit: r.aggregationUnits?.[0] ?? '?' }))
      .sort((a, b) => a.at - b.at || a.unit.localeCompare(b.unit))
      .map((r) => r.unit);
    assert.equal(got.length, expected.length, `${name}: ${got.join(', ')}`);
    expected.forEach((unit, i) =>
      unit.endsWith('*')
        ? assert.ok(got[i]!.startsWith(unit.slice(0, -1)), `${name}[${i}]: ${got[i]}`)
        : assert.equal(got[i], unit, `${name}[${i}]`),
    );
  }
  const pairs = line.received.map((r) => `${r.to} ${r.aggregationUnits?.[0]}`);
  assert.equal(new Set(pairs).size, pairs.length, 'no user got a step twice');
  assert.match(lastSummary, /Nothing needs a person/);
  // The week's funnels at the foot of the first tick of each day (in Tokyo), not of the others.
  const withFunnels = summaries.filter((r) => r.summary.includes('### Funnels, last 7 days'));
  assert.equal(withFunnels.length, 9, withFunnels.map((r) => new Date(r.now).toISOString()).join(', '));
  assert.match(withFunnels[1]!.summary, /- `cart-abandoned`: entered 1 → reminder 1/);
  assert.doesNotMatch(lastSummary, /U[0-9a-f]{32}/, 'the summary never shows a LINE user id');
  const cartText = line.received.find((r) => r.to === U('cart'))!.messages[0] as { text: string };
  assert.match(cartText.text, /「白いスニーカー」/);
});
