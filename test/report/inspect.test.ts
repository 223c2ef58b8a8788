// inspect on users who went through whole ticks (the sample scenarios, the real SDK, the
// loopback LINE server): one added the account, left a cart and bought (the purchase
// ends the cart scenario by its exit rule, reaches the welcome series' goal, and starts
// the after-purchase thanks), one left a cart and blocked the account.
import { afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { inspectCommand } from '../../src/commands/inspect.js';
import { reportCli } from '../../src/commands/report-cli.js';
import { ReportInputError } from '../../src/report/period-report.js';
import { localToInstant, MINUTE } from '../../src/time/zoned.js';
import { pgliteStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';
import type { Store } from '../../src/store/store.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = scenarios.map((s) => s.compiled);
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
let server: LineServer | undefined;
afterAll(async () => {
  await server?.stop();
});

test("inspect tells a user's story: entry and its event, each step sent with its batch and LINE's answer, the goal and the exit with the events behind them", async () => {
  const clock = new Clock(localToInstant('Asia/Tokyo', 2026, 11, 25, 12, 0));
  server = await new LineServer({ now: clock.now }).start();
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 1000,
  });
  const { store, db } = await pgliteStore();
  const tick = () => runTick({ store, sender, scenarios: compiled, now: clock.now });
  await tick();
  clock.advance(MINUTE);
  const event = (user: number, type: string, properties: object = {}) =>
    db.query(
      `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, $2, $3, to_timestamp($4 / 1000.0), 'test')`,
      [U(user), type, JSON.stringify(properties), clock.t],
    );
  await event(1, 'follow');
  await event(1, 'cart_abandoned', { productName: '白いスニーカー', total: 5000 });
  await event(2, 'cart_abandoned', { productName: '黒い帽子', total: 3000 });
  await event(1, 'account_linked', { memberId: 'M-1' });
  for (let i = 0; i < 2 * 24 * 4; i++) {
    if (i === 8) await event(2, 'unfollow');
    if (i === 30 * 4) await event(1, 'purchased', { orderId: 'A-1' });
    await tick();
    clock.advance(15 * MINUTE);
  }
  const keep = Object.assign(Object.create(Object.getPrototypeOf(store) as object) as Store, store, {
    close: async () => {},
  });
  const open = async () => keep;

  const bought = await inspectCommand({ openStore: open, user: U(1) });
  assert.match(bought, new RegExp(`^User ${U(1)} \\(member M-1\\) · following`));
  const block = (text: string, scenario: string) => {
    const start = text.indexOf(`\n${scenario} ·`);
    assert.ok(start >= 0, `${scenario} is in the story:\n${text}`);
    return text.slice(start + 1, text.indexOf('\n\n', start + 1));
  };
  const cart = block(bought, 'cart-abandoned');
  assert.match(cart, /^cart-abandoned · left 2026-11-26 18:\d\d at "wait-checkout": exit: purchased\n/);
  assert.match(
    cart,
    /\n {2}entered 2026-11-25 12:01 by event #\d+ 2026-11-25 12:01 cart_abandoned \(test\) \{"total":5000,"productName":"白いスニーカー"\}/,
  );
  const [batch] = await db.query<{ id: string; line_request_id: string }>(
    `select id, line_request_id from outbox_batches where step_id = 'reminder' and $1 = any(recipients)`,
    [U(1)],
  );
  assert.ok(batch?.line_request_id, "LINE's request id was recorded");
  const sentLine = `\\n {2}reminder {11}sent 2026-11-25 13:01 \\(due 2026-11-25 13:01\\) · batch ${batch.id} \\(push to 1, sent, 1 attempt\\(s\\), LINE request ${batch.line_request_id}\\)`;
  assert.match(cart, new RegExp(sentLine));
  assert.match(
    cart,
    /\n {2}goal reached 2026-11-26 18:01 by event #\d+ 2026-11-26 18:01 purchased/,
    'the purchase that ended it is its goal too',
  );
  assert.match(cart, /\n {2}left because of event #\d+ 2026-11-26 18:01 purchased \(test\) \{"orderId":"A-1"\}$/);
  const welcome = block(bought, 'friend-welcome');
  assert.match(welcome, /^friend-welcome · active, next: "day5-reviews" at 2026-11-30 10:00\n/);
  assert.match(welcome, /\n {2}welcome {12}sent 2026-11-25 12:01 /);
  assert.match(welcome, /\n {2}day1-campaign {6}sent 2026-11-26 10:01 \(due 2026-11-26 10:00\) /);
  assert.match(welcome, /\n {2}goal reached 2026-11-26 18:01 by event #\d+ 2026-11-26 18:01 purchased \(test\)/);
  assert.match(
    bought,
    /\nafter-purchase · [^\n]+\n {2}entered 2026-11-26 18:\d\d by event #\d+ [^\n]+ purchased[^\n]*\n {2}thanks {13}sent 2026-11-26/,
  );
  assert.match(
    bought,
    /\nEvents \(4\):\n {2}#\d+ 2026-11-25 12:01 follow \(test\)\n {2}#\d+ 2026-11-25 12:01 cart_abandoned/,
  );

  // By member id: the same story.
  assert.equal(await inspectCommand({ openStore: open, user: 'M-1' }), bought);

  const blocked = await inspectCommand({ openStore: open, user: U(2), timezone: 'UTC' });
  assert.match(blocked, /· blocked the account 2026-11-25 05:01/);
  assert.match(blocked, /Times in UTC\./);
  assert.match(blocked, /\ncart-abandoned · left 2026-11-25 05:01 at "wait-checkout": unfollowed\n/);
  assert.match(blocked, /\n {2}left because of event #\d+ 2026-11-25 05:01 unfollow \(test\)/);
  assert.match(
    blocked,
    /\n {2}reminder {11}sent 2026-11-25 04:01 \(due 2026-11-25 04:01\)/,
    'the reminder went out an hour before the block',
  );

  await assert.rejects(inspectCommand({ openStore: open, user: 'M-404' }), (e: Error) => {
    assert.ok(e instanceof ReportInputError);
    assert.equal(
      e.message,
      'no user with the member id "M-404" in this database: give a LINE user id (U and 32 hex digits) or a linked member id',
    );
    return true;
  });
  await assert.rejects(inspectCommand({ openStore: open, user: U(99) }), /no user with the LINE user id "U0{30}63"/);
  await assert.rejects(
    inspectCommand({ openStore: open, user: U(1), timezone: 'Tokyo' }),
    /--timezone "Tokyo" is not an IANA time zone/,
  );
  await db.close();
});

test("inspect's arguments: one user, --timezone, --events; anything else is refused with the usage, before the store is opened", async () => {
  const refused = async (args: string[]) => {
    let err = '';
    const code = await reportCli(
      ['inspect', ...args],
      () => Promise.reject(new Error('the store is not opened for a refused command')),
      { out: () => {}, err: (t) => (err += t) },
    );
    assert.equal(code, 1);
    return err;
  };
  assert.match(await refused([]), /whom\?\nusage: line-step-delivery inspect <LINE user id \| member id>/);
  assert.match(await refused(['a', 'b']), /one user at a time, got 2/);
  assert.match(await refused(['a', '--events', 'x']), /--events must be a whole number above 0, got "x"/);
  assert.match(await refused(['a', '--since', 'x']), /Unknown option '--since'/);
});
