// LINE's batching rules: how the sends and rich menu changes of one planned page become
// LINE requests (outbox batches). A multicast holds at most 500 users, each at most once;
// a batch of one recipient goes by push; one step's identical messages (or identical rich
// menu change) go together. The limits are LINE_LIMITS (src/contract/line-limits.ts).
import { randomUUID } from 'node:crypto';
import type { Decision } from '../planner/types.js';
import type { RichMenuAction } from '../scenario/schema.js';
import { canonicalJson } from '../scenario/compile.js';
import type { ActDraft, BatchDraft, RichMenuPayload } from '../domain.js';
import { LINE_LIMITS } from '../contract/line-limits.js';

/** One planned send of one enrollment. */
export interface PlannedSend {
  enrollmentId: string;
  userId: string;
  scenarioId: string;
  decision: Extract<Decision, { kind: 'send' }>;
}

/** An action step's change that links or unlinks the user's rich menu. */
export interface PlannedAct {
  act: ActDraft;
  richMenu: RichMenuAction;
}

/**
 * Groups sends into LINE requests: sends of one step whose messages came out the same go
 * together by multicast, 500 recipients at most; a batch of one goes by push.
 */
export function toBatches(sends: readonly PlannedSend[]): BatchDraft[] {
  const batches: BatchDraft[] = [];
  const groups = new Map<string, BatchDraft[]>();
  // Two keyed enrollments of one user (two bookings) may send the same step in one tick:
  // a user appears at most once in a multicast, so the second goes into another batch.
  const usersOf = new Map<BatchDraft, Set<string>>();
  for (const s of sends) {
    const d = s.decision;
    // Grouped by what is sent, whether or not the step is personalized: users whose messages
    // came out the same (a placeholder's fallback, the same name) share a multicast too.
    const key = `${s.scenarioId}\u0000${d.stepId}\u0000${canonicalJson(d.messages)}`;
    const open = groups.get(key) ?? [];
    groups.set(key, open);
    const fits = (b: BatchDraft) =>
      b.members.length < LINE_LIMITS.multicastRecipients && !usersOf.get(b)!.has(s.userId);
    // The newest batch of the group, else (a user met twice) any earlier one with room.
    let batch = open.length && fits(open[open.length - 1]!) ? open[open.length - 1] : open.find(fits);
    if (!batch) {
      batch = {
        id: randomUUID(),
        scenarioId: s.scenarioId,
        stepId: d.stepId,
        kind: 'multicast',
        messages: d.messages,
        aggregationUnit: d.aggregationUnit,
        members: [],
      };
      open.push(batch);
      usersOf.set(batch, new Set());
      batches.push(batch);
    }
    batch.members.push({ enrollmentId: s.enrollmentId, userId: s.userId, dueAt: d.dueAt });
    usersOf.get(batch)!.add(s.userId);
  }
  for (const b of batches) if (b.members.length === 1) b.kind = 'push';
  return batches;
}

function payloadOf(richMenu: RichMenuAction): RichMenuPayload {
  if ('unlink' in richMenu) return { type: 'richmenu', unlink: true };
  if ('alias' in richMenu) return { type: 'richmenu', alias: richMenu.alias };
  return { type: 'richmenu', richMenuId: richMenu.id };
}

/**
 * Batches for the page's rich menu changes (issue 18): one step's users with the same
 * change go together, at most 500 a batch (LINE's bulk link limit). Each act is told its
 * batch: its delivery is that batch's. A user's later change in the page (a later step, or
 * another scenario planned after) supersedes an earlier one, which is not sent: batches of
 * one commit share their created moment, so their order could not be kept at LINE.
 */
export function richMenuBatches(acts: readonly PlannedAct[]): BatchDraft[] {
  const open = new Map<string, BatchDraft>();
  const batches: BatchDraft[] = [];
  const last = new Map(acts.map((a) => [a.act.userId, a]));
  for (const planned of acts) {
    if (last.get(planned.act.userId) !== planned) continue;
    const { act, richMenu } = planned;
    const payload = payloadOf(richMenu);
    const key = `${act.scenarioId}\u0000${act.stepId}\u0000${JSON.stringify(payload)}`;
    let batch = open.get(key);
    if (!batch || batch.members.length >= LINE_LIMITS.bulkRichMenuUsers) {
      batch = {
        id: randomUUID(),
        scenarioId: act.scenarioId,
        stepId: act.stepId,
        kind: 'unlink' in payload ? 'richmenu_unlink' : 'richmenu_link',
        messages: [payload],
        aggregationUnit: null,
        members: [],
      };
      open.set(key, batch);
      batches.push(batch);
    }
    batch.members.push({ enrollmentId: act.enrollmentId, userId: act.userId, dueAt: act.dueAt });
    act.batchId = batch.id;
  }
  return batches;
}
