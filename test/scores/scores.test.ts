// Scores (issue 26 item 2): "attributes": {"increment": {"score": 5}} on an action step.
// Validation refuses what cannot be added; the planner and the commit's SQL add the same
// way and refuse the same things with the same words; through whole ticks on the real
// server a score is added once per step, a branch reads user.score, and a user whose
// attribute holds something else than a number fails that step alone, with the reason.
import { test } from '@fast-check/vitest';
import { afterAll, expect, test as plain } from 'vitest';
import fc from 'fast-check';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { actionChange, applyChange } from '../../src/planner/actions.js';
import { runTick } from '../../src/engine/tick.js';
import { LineSender } from '../../src/line/line-sender.js';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { Clock } from '../support/clock.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;

const engage = (attributes: Record<string, unknown>): Scenario => ({
  id: 'engage',
  version: 1,
  entry: { trigger: { type: 'event', event: 'visited' } },
  reentry: 'restart',
  steps: [
    { id: 'add-score', type: 'action', attributes },
    {
      id: 'engaged',
      type: 'branch',
      branches: [{ when: { field: 'user.score', gte: 20 }, next: 'vip' }],
      default: 'plain',
    },
    { id: 'vip', type: 'message', messages: [{ type: 'text', text: 'you are a regular' }], next: 'end' },
    { id: 'plain', type: 'message', messages: [{ type: 'text', text: 'thanks for visiting' }] },
  ],
});

const issues = (s: Scenario) =>
  validateScenarioText('scenarios/engage.json', JSON.stringify(s, null, 2)).issues.map(formatIssue);

plain(
  'an increment is a whole number other than 0 within ±1,000,000, on an attribute the step does not also set or clear',
  () => {
    expect(issues(engage({ increment: { score: 5 } }))).toEqual([]);
    expect(issues(engage({ increment: { score: -1_000_000 }, set: { plan: 'gold' } }))).toEqual([]);
    for (const bad of [0, 1.5, 1_000_001, '5'])
      expect(issues(engage({ increment: { score: bad } }))).toEqual([
        expect.stringMatching(/^scenarios\/engage\.json:1\d:\d+ \$\.steps\[0\]\.attributes\.increment\.score: /),
      ]);
    expect(issues(engage({ increment: { score: 1.5 } }))[0]).toMatch(
      /a whole number other than 0, from -1,000,000 to 1,000,000/,
    );
    expect(issues(engage({ increment: { score: 5 }, set: { score: 1 } }))[0]).toMatch(
      /increment\.score: attribute "score" is also set by this step: add to it or set it, not both/,
    );
    expect(issues(engage({ increment: { score: 5 }, clear: ['score'] }))[0]).toMatch(/is also cleared by this step/);
    expect(issues(engage({ increment: {} }))[0]).toMatch(/add to at least one attribute/);
    expect(issues(engage({ increment: { tags: 1 } })).join()).toMatch(/tags/);
  },
);

const change = (increment: Record<string, number>) => actionChange({ attributes: { increment } });

plain(
  'the planner adds to a number, counts a missing one as 0, and refuses anything else or a sum past the bound',
  () => {
    expect(applyChange({}, change({ score: 5 }))).toEqual({ attributes: { score: 5 } });
    expect(applyChange({ score: 10 }, change({ score: -3 }))).toEqual({ attributes: { score: 7 } });
    expect(applyChange({ score: 'high' }, change({ score: 5 }))).toEqual({
      error:
        'attribute "score" holds a string, not a number: the step cannot add 5 to it (set it to a number or clear it first)',
    });
    expect(applyChange({ score: 999_999_999 }, change({ score: 2 }))).toEqual({
      error: 'attribute "score" would be 1000000001: a number an action step adds to stays within ±1,000,000,000',
    });
  },
);

const store = await serverStore();
afterAll(() => store.drop());

const valueArb = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.constantFrom(999_999_999, -999_999_999, 1_000_000_000),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([1]),
  fc.constant({ a: 1 }),
);

test.prop([valueArb, fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((n) => n !== 0)], { numRuns: 150 })(
  "the commit's SQL (lsd_act_change) adds as the planner does, and refuses with the same words",
  async (current, by) => {
    const attrs = current === undefined ? {} : { score: current };
    const planned = applyChange(attrs, change({ score: by }));
    const act = {
      enrollment_id: 'e',
      step_id: 's',
      due_at: 1,
      scenario_id: 'x',
      attributes: { increment: { score: by } },
    };
    const [row] = await store.db.query<{ r: { attributes?: Record<string, unknown>; error?: string } }>(
      'select lsd_act_change($1::jsonb, $2::jsonb) as r',
      [JSON.stringify(attrs), JSON.stringify(act)],
    );
    if ('error' in planned) expect(row!.r.error).toBe(planned.error);
    else expect(row!.r.attributes).toEqual(planned.attributes);
  },
);

plain(
  'through whole ticks: each visit adds 10 once, the branch reads user.score, a non-number fails that user alone with the reason',
  async () => {
    const clock = new Clock(Date.parse('2026-11-25T02:00:00Z'));
    const server = await new LineServer({ now: clock.now }).start();
    try {
      const { db } = store;
      const loaded = loadScenarioTexts([
        { file: 'engage.json', text: JSON.stringify(engage({ increment: { score: 10 } })) },
      ]);
      expect(loaded.issues).toEqual([]);
      const scenarios = loaded.scenarios.map((s) => s.compiled);
      const sender = new LineSender({
        channelAccessToken: server.token,
        baseURL: server.url,
        backoffMs: 5,
        timeoutMs: 500,
      });
      const tick = () => runTick({ store: store.store, sender, scenarios, now: clock.now });
      await tick();
      await db.query(
        `insert into line_users (line_user_id, attributes) values ($1, '{"score": "high"}'), ($2, '{"score": 15}')`,
        [U(2), U(3)],
      );
      const visit = async (...users: string[]) => {
        clock.advance(60_000);
        for (const u of users)
          await db.query(
            `insert into events (line_user_id, type, occurred_at) values ($1, 'visited', to_timestamp($2 / 1000.0))`,
            [u, clock.t],
          );
        clock.advance(60_000);
        await tick();
        await tick(); // a second tick changes nothing: each step's act is applied once
      };
      const score = async (u: string) =>
        (
          await db.query<{ s: unknown }>(`select attributes->'score' as s from line_users where line_user_id = $1`, [u])
        )[0]?.s;
      const texts = (u: string) => server.inbox(u).map((m) => (m[0] as { text: string }).text);

      await visit(U(1), U(2), U(3));
      expect(await score(U(1))).toBe(10);
      expect(await score(U(2))).toBe('high');
      expect(await score(U(3))).toBe(25);
      expect(texts(U(1))).toEqual(['thanks for visiting']);
      expect(texts(U(3))).toEqual(['you are a regular']);
      const failed = await db.query<{ line_user_id: string; reason: string }>(
        `select line_user_id, reason from deliveries where kind = 'fail' and step_id = 'add-score'`,
      );
      expect(failed).toEqual([
        {
          line_user_id: U(2),
          reason:
            'attribute "score" holds a string, not a number: the step cannot add 10 to it (set it to a number or clear it first)',
        },
      ]);
      // The failed step does not stop the user's walk (as a failed tag change): they go on to the branch.
      expect(texts(U(2))).toHaveLength(1);

      await visit(U(1)); // re-entry (restart): 10 more, now 20, and the branch sees it
      expect(await score(U(1))).toBe(20);
      expect(texts(U(1))).toEqual(['thanks for visiting', 'you are a regular']);
      const events = await db.query<{ properties: Record<string, unknown> }>(
        `select properties from events where line_user_id = $1 and type = 'attribute_set' order by id`,
        [U(1)],
      );
      expect(events.map((e) => e.properties.value)).toEqual([10, 20]);
    } finally {
      await server.stop();
    }
  },
);
