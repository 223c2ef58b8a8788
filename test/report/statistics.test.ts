// LINE's statistics per step, end to end: ticks send through the real SDK to the loopback
// LINE server, then the report reads the statistics of each unit and day back (GET
// /v2/bot/insight/message/event/aggregation) and the month's unit usage, and shows open
// and click rates beside "sent"; LINE's refusals become notes, never a failed report.
import { afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { reportCommand } from '../../src/commands/report.js';
import { pgliteStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';
import type { Store } from '../../src/store/store.js';

const { scenarios } = await loadScenarioDir('scenarios');
const vip = scenarios.filter((s) => s.scenario.id === 'vip-list').map((s) => s.compiled);
const servers: LineServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

/** 48 users on the VIP list get the invitation (one multicast) on 2026-11-25, 11:01 in Tokyo. */
async function sentToVips(options: ConstructorParameters<typeof LineServer>[0] = {}) {
  const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
  const server = await new LineServer({ now: clock.now, ...options }).start();
  servers.push(server);
  const { store, db } = await pgliteStore();
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 300,
  });
  await runTick({ store, sender, scenarios: vip, now: clock.now });
  clock.advance(60_000);
  await db.query(
    `insert into events (line_user_id, type, properties, occurred_at)
     select 'U' || lpad(to_hex(g), 32, '0'), 'list_added', '{"list": "vip-2026"}', to_timestamp($1 / 1000.0) from generate_series(1, 48) g`,
    [clock.t],
  );
  await runTick({ store, sender, scenarios: vip, now: clock.now });
  assert.equal(server.received.length, 48);
  clock.advance(60_000);
  // One store across report runs (a report closes the store it opens).
  const keep = Object.assign(Object.create(Object.getPrototypeOf(store) as object) as Store, store, {
    close: async () => {},
  });
  return { clock, server, store, db, open: async () => keep };
}

test("the report reads LINE's statistics for each unit and day it sent on, and shows open and click rates", async () => {
  const { clock, server, db, open } = await sentToVips({ statistics: { openRate: 0.5, clickRate: 0.25 } });
  clock.advance(2 * 86_400_000);
  const r = await reportCommand({
    openStore: open,
    line: { channelAccessToken: server.token, baseURL: server.url },
    now: clock.t,
  });
  // One unit, one day (UTC+9): asked with from = to = that day.
  const asked = server.requests.filter((q) => q.path.startsWith('/v2/bot/insight/'));
  assert.deepEqual(
    asked.map((q) => [q.status, new URL(q.path, 'http://x').searchParams.toString()]),
    [[200, 'customAggregationUnit=vip_list__invite&from=20261125&to=20261125']],
  );
  assert.deepEqual(r.refresh, { fetched: 1, left: 0 });
  const stored = await db.query<{ unique_impression: number; unique_click: number | null }>(
    'select unique_impression, unique_click from line_unit_statistics',
  );
  assert.deepEqual(
    stored.map((s) => [Number(s.unique_impression), s.unique_click]),
    [[24, null]],
    'the 12 clicks are under 20: LINE hides them',
  );
  for (const report of r.reports) {
    const invite = report.scenarios.find((s) => s.id === 'vip-list')!.funnel[0]!;
    assert.equal(invite.sent, 48);
    assert.deepEqual(invite.openRate, { value: 0.5 });
    assert.deepEqual(invite.clickRate, { value: null, note: 'LINE hides counts under 20' });
  }
  assert.match(r.markdown, /\| invite \| 48 \| 50\.0% \| — \|/);
  assert.deepEqual(r.usage, { used: 1, cap: 1000 });
  assert.deepEqual(r.notes, []);
  // Read after it settled: the next report asks LINE nothing more.
  clock.advance(3 * 86_400_000);
  const again = await reportCommand({
    openStore: open,
    line: { channelAccessToken: server.token, baseURL: server.url },
    now: clock.t,
  });
  assert.equal(
    server.requests.filter((q) => q.path.startsWith('/v2/bot/insight/')).length,
    2,
    'read once more: the first read was within 3 days of the day',
  );
  const third = await reportCommand({
    openStore: open,
    line: { channelAccessToken: server.token, baseURL: server.url },
    now: clock.t + 86_400_000,
  });
  assert.equal(
    server.requests.filter((q) => q.path.startsWith('/v2/bot/insight/')).length,
    2,
    'settled: not read again',
  );
  assert.equal(again.refresh?.fetched, 1);
  assert.equal(third.refresh?.fetched, 0);
  assert.doesNotMatch(r.markdown + r.html, /U[0-9a-f]{32}/, 'no LINE user id in the summary or the page');
  assert.ok(!(r.markdown + r.html).includes('シークレットセール'), 'no message text');
  assert.ok(!(r.markdown + r.html).includes('shop.example.com'), "no URL from LINE's click statistics");
});

test("near LINE's monthly cap on unit names the summary warns; past it, it says LINE accepts no new unit name", async () => {
  const near = await sentToVips({ statistics: { unitsUsedBefore: 820 } });
  const r = await reportCommand({
    openStore: near.open,
    line: { channelAccessToken: near.server.token, baseURL: near.server.url },
    now: near.clock.t,
  });
  assert.equal(r.usage?.used, 821);
  assert.match(
    r.markdown,
    /⚠️ LINE's aggregation units are running short: 821 of 1,000 unit names used this month \(82%\)/,
  );
  const full = await sentToVips({ statistics: { unitsUsedBefore: 999 } });
  const f = await reportCommand({
    openStore: full.open,
    line: { channelAccessToken: full.server.token, baseURL: full.server.url },
    now: full.clock.t,
  });
  assert.match(
    f.markdown,
    /⚠️ LINE's cap on aggregation units is reached: 1,000 of 1,000 unit names used this month\. LINE accepts no new unit name until the 1st of next month/,
  );
  assert.match(f.html, /LINE&#39;s cap on aggregation units is reached/);
});

test('LINE refusing the statistics is a note in the report, which still shows every count; without a token they are not read', async () => {
  const { clock, server, open } = await sentToVips();
  server.faults.push({
    kind: 'status',
    status: 403,
    body: { message: 'Access to this API is not available for your account' },
  });
  const r = await reportCommand({
    openStore: open,
    line: { channelAccessToken: server.token, baseURL: server.url },
    now: clock.t,
  });
  assert.deepEqual(r.refresh, { fetched: 0, left: 1, stopped: r.refresh?.stopped });
  assert.match(
    r.markdown,
    /⚠️ LINE's statistics: LINE refused the statistics request \(403: "Access to this API is not available for your account"\)/,
  );
  assert.equal(
    r.reports[0]!.scenarios.find((s) => s.id === 'vip-list')!.funnel[0]!.sent,
    48,
    'the counts are there all the same',
  );
  const none = await reportCommand({ openStore: open, now: clock.t });
  assert.match(none.markdown, /LINE's opens and clicks were not read: no LINE channel access token was given/);
  assert.equal(none.refresh, undefined);
});
