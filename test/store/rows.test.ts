// The store's mapping between the domain types and the SQL functions' rows
// (src/store/rows.ts): the payloads the engine reads keep their snake_case names, and a
// field left undefined is left out (as JSON.stringify would).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import {
  batchDraftRow,
  exitRow,
  newEnrollmentRow,
  newEventRow,
  planRow,
  sendResultRow,
  skippedStepRow,
  toClaimedBatch,
  toDelivery,
  toSkippedRecipients,
  triggerUpdateRow,
} from '../../src/store/rows.js';

test('writes: each domain type becomes the row its SQL function reads', () => {
  const act = {
    enrollmentId: 'e1',
    scenarioId: 's',
    stepId: 'tag',
    userId: 'U1',
    dueAt: 5,
    tags: { add: ['vip'], remove: [] },
    attributes: { set: { plan: 'gold' }, clear: [] },
    batchId: null,
  };
  const plan = {
    id: 'e1',
    status: 'active' as const,
    stepId: 'b',
    previousAt: 1,
    waitStartedAt: null,
    waitingFor: 'purchased',
    dueAt: 9,
    scenarioHash: 'h',
    convertedAt: null,
    exitReason: null,
  };
  assert.deepEqual(planRow({ ...plan, acts: [act] }), {
    id: 'e1',
    status: 'active',
    step_id: 'b',
    previous_at: 1,
    wait_started_at: null,
    waiting_for: 'purchased',
    due_at: 9,
    scenario_hash: 'h',
    converted_at: null,
    exit_reason: null,
    acts: [
      {
        enrollment_id: 'e1',
        scenario_id: 's',
        step_id: 'tag',
        line_user_id: 'U1',
        due_at: 5,
        tags: { add: ['vip'], remove: [] },
        attributes: { set: { plan: 'gold' }, clear: [] },
        batch_id: null,
      },
    ],
  });
  assert.equal('acts' in planRow(plan), false, 'no acts: no key (a page without action steps answers as before)');
  assert.deepEqual(
    skippedStepRow({
      enrollmentId: 'e',
      scenarioId: 's',
      stepId: 'a',
      userId: 'U',
      kind: 'expire',
      dueAt: 3,
      reason: 'r',
    }),
    { enrollment_id: 'e', scenario_id: 's', step_id: 'a', line_user_id: 'U', kind: 'expire', due_at: 3, reason: 'r' },
  );
  assert.deepEqual(
    batchDraftRow({
      id: 'b',
      scenarioId: 's',
      stepId: 'a',
      kind: 'multicast',
      messages: [{ type: 'text', text: 'x' }],
      aggregationUnit: 's__a',
      members: [{ enrollmentId: 'e', userId: 'U', dueAt: 2 }],
    }),
    {
      id: 'b',
      scenario_id: 's',
      step_id: 'a',
      kind: 'multicast',
      messages: [{ type: 'text', text: 'x' }],
      aggregation_unit: 's__a',
      members: [{ enrollment_id: 'e', line_user_id: 'U', due_at: 2 }],
    },
  );
  const enrollment = {
    scenarioId: 's',
    userId: 'U',
    stepId: 'a',
    enteredAt: 1,
    trigger: { k: 1 },
    triggerEventId: '7',
    scenarioHash: 'h',
    key: null,
  };
  assert.deepEqual(newEnrollmentRow(enrollment), {
    scenario_id: 's',
    line_user_id: 'U',
    step_id: 'a',
    entered_at: 1,
    trigger: { k: 1 },
    trigger_event_id: '7',
    scenario_hash: 'h',
    enrollment_key: null,
  });
  assert.deepEqual(newEnrollmentRow({ ...enrollment, status: 'exited', exitReason: 'goal', convertedAt: 4 }), {
    ...newEnrollmentRow(enrollment),
    status: 'exited',
    exit_reason: 'goal',
    converted_at: 4,
  });
  assert.deepEqual(exitRow({ enrollmentId: 'e', reason: 'r' }), { enrollment_id: 'e', reason: 'r' });
  assert.deepEqual(triggerUpdateRow({ enrollmentId: 'e', trigger: {}, triggerEventId: '8' }), {
    enrollment_id: 'e',
    trigger: {},
    trigger_event_id: '8',
  });
  assert.deepEqual(sendResultRow({ batchId: 'b', outcome: 'sent', requestId: 'r' }), {
    batch_id: 'b',
    outcome: 'sent',
    request_id: 'r',
  });
  assert.deepEqual(
    newEventRow({ memberId: 'M', type: 'purchased', properties: {}, source: 'csv-import', idempotencyKey: 'k' }),
    { member_id: 'M', type: 'purchased', properties: {}, source: 'csv-import', idempotency_key: 'k' },
  );
});

test('reads: rows become domain types, numbers as numbers', () => {
  assert.deepEqual(
    toClaimedBatch({
      id: 'b',
      scenario_id: 's',
      step_id: 'a',
      kind: 'push',
      messages: [{ type: 'text', text: 'x' }],
      recipients: ['U'],
      aggregation_unit: null,
      attempts: 0,
      created_at: 12,
    }),
    {
      id: 'b',
      scenarioId: 's',
      stepId: 'a',
      kind: 'push',
      messages: [{ type: 'text', text: 'x' }],
      recipients: ['U'],
      aggregationUnit: null,
      attempts: 0,
      createdAt: 12,
    },
  );
  assert.deepEqual(toSkippedRecipients({ scenario_id: 's', step_id: 'a', reason: 'left', count: '3' }), {
    scenarioId: 's',
    stepId: 'a',
    reason: 'left',
    count: 3,
  });
  assert.deepEqual(
    toDelivery({
      line_user_id: 'U',
      scenario_id: 's',
      step_id: 'a',
      kind: 'send',
      status: 'sent',
      due_at: 1,
      sent_at: null,
      batch_id: 'b',
      reason: null,
    }),
    {
      userId: 'U',
      scenarioId: 's',
      stepId: 'a',
      kind: 'send',
      status: 'sent',
      dueAt: 1,
      sentAt: null,
      batchId: 'b',
      reason: null,
    },
  );
});
