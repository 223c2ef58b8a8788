// The rich menu changes of one planned page as outbox batches (issue 18): one step's users
// with the same change go together, at most 500 a batch (LINE's bulk link limit). Each act
// is told its batch: its delivery is that batch's.
import { randomUUID } from 'node:crypto';
import type { RichMenuAction } from './scenario/schema.js';
import type { ActDraft, BatchDraft, RichMenuPayload } from './store/store.js';

export interface PlannedAct {
  act: ActDraft;
  richMenu: RichMenuAction;
}

export const BULK_RICH_MENU_USERS = 500;

function payloadOf(richMenu: RichMenuAction): RichMenuPayload {
  if ('unlink' in richMenu) return { type: 'richmenu', unlink: true };
  if ('alias' in richMenu) return { type: 'richmenu', alias: richMenu.alias };
  return { type: 'richmenu', richMenuId: richMenu.id };
}

/**
 * Batches for the page's rich menu changes. A user's later change in the page (a later step,
 * or another scenario planned after) supersedes an earlier one, which is not sent: batches
 * of one commit share their created moment, so their order could not be kept at LINE.
 */
export function richMenuBatches(acts: readonly PlannedAct[]): BatchDraft[] {
  const open = new Map<string, BatchDraft>();
  const batches: BatchDraft[] = [];
  const last = new Map(acts.map((a) => [a.act.line_user_id, a]));
  for (const planned of acts) {
    if (last.get(planned.act.line_user_id) !== planned) continue;
    const { act, richMenu } = planned;
    const payload = payloadOf(richMenu);
    const key = `${act.scenario_id}\u0000${act.step_id}\u0000${JSON.stringify(payload)}`;
    let batch = open.get(key);
    if (!batch || batch.members.length >= BULK_RICH_MENU_USERS) {
      batch = {
        id: randomUUID(),
        scenario_id: act.scenario_id,
        step_id: act.step_id,
        kind: 'unlink' in payload ? 'richmenu_unlink' : 'richmenu_link',
        messages: [payload],
        aggregation_unit: null,
        members: [],
      };
      open.set(key, batch);
      batches.push(batch);
    }
    batch.members.push({ enrollment_id: act.enrollment_id, line_user_id: act.line_user_id, due_at: act.due_at });
    act.batch_id = batch.id;
  }
  return batches;
}
