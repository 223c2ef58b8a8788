// An action step whose rich menu cannot be applied (issue 27 item 7): the failure is a rich
// menu failure with LINE's reason (not a failed message), and the step's tag and attribute
// changes stand, as docs/scenario-safety.md says. Through a whole tick: the store, the SDK
// and the loopback LINE server.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import type { RichMenuAction, Scenario } from '../../src/scenario/schema.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { pgliteStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const servers: LineServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const scenario = (richMenu: RichMenuAction): Scenario => ({
  id: 'member',
  version: 1,
  entry: { trigger: { type: 'event', event: 'signed_up' } },
  steps: [
    { id: 'make-member', type: 'action', tags: { add: ['member'] }, attributes: { set: { plan: 'gold' } }, richMenu },
  ],
});

async function tickWith(s: Scenario) {
  const clock = new Clock(Date.parse('2026-12-07T02:00:00Z'));
  const server = await new LineServer({ now: clock.now }).start();
  servers.push(server);
  const { store, db } = await pgliteStore();
  const sender = new LineSender({
    channelAccessToken: server.token,
    baseURL: server.url,
    backoffMs: 5,
    timeoutMs: 300,
  });
  const loaded = loadScenarioTexts([{ file: 'member.json', text: JSON.stringify(s) }]);
  assert.deepEqual(loaded.issues, []);
  const scenarios = loaded.scenarios.map((x) => x.compiled);
  await runTick({ store, sender, scenarios, now: clock.now });
  clock.advance(60_000);
  await db.query(
    `insert into events (line_user_id, type, occurred_at) values ($1, 'signed_up', to_timestamp($2 / 1000.0))`,
    [U(1), clock.t],
  );
  const result = await runTick({ store, sender, scenarios, now: clock.now });
  const [user] = await db.query<{ attributes: Record<string, unknown> }>(
    `select attributes from line_users where line_user_id = $1`,
    [U(1)],
  );
  const events = await db.query<{ type: string }>(`select type from events where source = 'step' order by id`);
  return { result, attributes: user!.attributes, events: events.map((e) => e.type) };
}

test('an unknown rich menu alias: "rich menu not linked" with LINE’s reason; the step’s tags and attributes stand', async () => {
  const { result, attributes, events } = await tickWith(scenario({ alias: 'no-such-menu' }));
  const failure = result.counts.failures.find((f) => f.stepId === 'make-member');
  assert.ok(failure, JSON.stringify(result.counts.failures));
  assert.match(
    failure.reason,
    /^rich menu not linked: unknown rich menu alias "no-such-menu": .+ \(LINE answered 404\)$/,
  );
  assert.doesNotMatch(failure.reason, /message/);
  assert.deepEqual(attributes.tags, ['member']);
  assert.equal(attributes.plan, 'gold');
  assert.ok(events.includes('tag_added') && events.includes('attribute_set'), events.join());
  assert.ok(!events.includes('richmenu_linked'), 'no link was recorded');
});

test('a rich menu id LINE does not know: "rich menu not linked" with LINE’s status', async () => {
  const { result } = await tickWith(scenario({ id: `richmenu-${'c'.repeat(32)}` }));
  const failure = result.counts.failures.find((f) => f.stepId === 'make-member');
  assert.ok(failure, JSON.stringify(result.counts.failures));
  assert.match(failure.reason, /^rich menu not linked: .*LINE answered 4\d\d/);
});
