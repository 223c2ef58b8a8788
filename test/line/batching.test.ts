// LINE's batching rules (src/line/batching.ts): sends into pushes and multicasts, rich menu
// changes into bulk requests, within LINE_LIMITS.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { richMenuBatches, toBatches, type PlannedAct, type PlannedSend } from '../../src/line/batching.js';
import { LINE_LIMITS } from '../../src/contract/line-limits.js';
import { canonicalJson } from '../../src/scenario/compile.js';

const send = (enrollmentId: string, userId: string, step = 'x', text = 'same'): PlannedSend => ({
  enrollmentId,
  userId,
  scenarioId: 's',
  decision: {
    kind: 'send',
    stepId: step,
    dueAt: 0,
    messages: [{ type: 'text', text }],
    uniform: true,
    aggregationUnit: `s__${step}`,
  },
});

test('a step’s identical messages go as multicasts of at most 500; a batch of one goes by push', () => {
  const sends = Array.from({ length: 1001 }, (_, i) => send(`e${i}`, `U${i}`));
  const batches = toBatches(sends);
  assert.deepEqual(
    batches.map((b) => [b.kind, b.members.length]),
    [
      ['multicast', 500],
      ['multicast', 500],
      ['push', 1],
    ],
  );
  assert.deepEqual(batches[0]!.members[0], { enrollmentId: 'e0', userId: 'U0', dueAt: 0 });
  assert.equal(batches[0]!.aggregationUnit, 's__x');
});

test('different messages or steps go apart; a user met twice goes into another batch', () => {
  const batches = toBatches([
    send('a', 'U1'),
    send('b', 'U2'),
    send('c', 'U1'),
    send('d', 'U3', 'x', 'other'),
    send('e', 'U4', 'y'),
  ]);
  assert.deepEqual(
    batches.map((b) => [b.kind, b.stepId, b.members.map((m) => m.enrollmentId)]),
    [
      ['multicast', 'x', ['a', 'b']],
      ['push', 'x', ['c']],
      ['push', 'x', ['d']],
      ['push', 'y', ['e']],
    ],
  );
});

test('property: every send in exactly one batch, within LINE’s limits, a user once per batch, batches of one kind of message', () => {
  const arbSend = fc.record({
    user: fc.integer({ min: 0, max: 30 }),
    step: fc.constantFrom('x', 'y'),
    text: fc.constantFrom('a', 'b'),
  });
  fc.assert(
    fc.property(fc.array(arbSend, { maxLength: 1200 }), (drawn) => {
      const sends = drawn.map((d, i) => send(`e${i}`, `U${d.user}`, d.step, d.text));
      const batches = toBatches(sends);
      const seen = batches.flatMap((b) => b.members.map((m) => m.enrollmentId));
      assert.deepEqual([...seen].sort(), sends.map((s) => s.enrollmentId).sort());
      for (const b of batches) {
        const users = b.members.map((m) => m.userId);
        assert.ok(users.length >= 1 && users.length <= LINE_LIMITS.multicastRecipients);
        assert.equal(new Set(users).size, users.length, 'a user at most once per multicast');
        assert.equal(b.kind, users.length === 1 ? 'push' : 'multicast');
        for (const m of b.members) {
          const s = sends.find((x) => x.enrollmentId === m.enrollmentId)!;
          assert.equal(s.decision.stepId, b.stepId);
          assert.equal(canonicalJson(s.decision.messages), canonicalJson(b.messages));
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('rich menu batches: one step’s same change together, 500 users a batch at most; a user’s later change in the page supersedes an earlier one', () => {
  const act = (user: number, step = 'switch'): PlannedAct => ({
    act: {
      enrollmentId: `e${user}-${step}`,
      scenarioId: 's',
      stepId: step,
      userId: `U${user}`,
      dueAt: 0,
      tags: { add: [], remove: [] },
      attributes: { set: {}, clear: [] },
      batchId: null,
    },
    richMenu: step === 'unlink' ? { unlink: true } : { alias: 'member-menu' },
  });
  const acts = Array.from({ length: 1001 }, (_, i) => act(i));
  const later = act(7, 'unlink');
  const batches = richMenuBatches([...acts, later]);
  assert.deepEqual(
    batches.map((b) => [b.kind, b.members.length]),
    [
      ['richmenu_link', LINE_LIMITS.bulkRichMenuUsers],
      ['richmenu_link', 500],
      ['richmenu_unlink', 1],
    ],
  );
  assert.equal(acts[7]!.act.batchId, null, 'superseded: not sent');
  assert.equal(later.act.batchId, batches[2]!.id);
  assert.equal(acts[1000]!.act.batchId, batches[1]!.id);
  assert.deepEqual(batches[0]!.messages, [{ type: 'richmenu', alias: 'member-menu' }]);
  assert.equal(batches[0]!.aggregationUnit, null);
});
