// The welcome by reply (docs/reply.md): after the follow is recorded, the webhook asks the
// database what the engine knows (lsd_reply_prepare), lets the engine's own routing and
// planner decide the first step (the generated bundle of src/planner/reply.ts), writes the
// enrollment and the step's delivery (lsd_reply_begin), replies through LINE with the
// event's reply token, and records what came of it (lsd_reply_finish). Whatever stops a
// reply, the tick's push path takes over: nothing here is sent twice, and the reason is
// recorded in the replies table. Logs carry no user id, token or message text.
import { planReply, type ReplyEnrollment } from '../_shared/reply-plan.js';

/** What LINE answered a reply: sent, refused (the tick pushes instead), or no answer (never pushed). */
export type ReplyOutcome =
  { outcome: 'sent'; requestId?: string | undefined } | { outcome: 'failed' | 'unknown'; reason: string };

export interface ReplyDeps {
  /** Calls one of the engine's SQL functions (one jsonb in, one out). */
  rpc: (fn: string, p: Record<string, unknown>) => Promise<unknown>;
  /** POST /v2/bot/message/reply. */
  sendReply: (replyToken: string, messages: unknown[]) => Promise<ReplyOutcome>;
  now?: () => number;
}

/**
 * LINE asks for a reply token to be used soon after the event; a follow older than this (a
 * webhook redelivered late) is not answered: the tick pushes its step.
 */
export const REPLY_WINDOW_MS = 50_000;
/** The enrollment is leased to the reply this long: the reply has that long to be recorded. */
const LEASE_SECONDS = 60;

export interface FollowToAnswer {
  eventKey: string;
  replyToken: string;
  /** When LINE says the follow happened (ms). */
  timestamp: number;
}

interface Prepared {
  none?: string;
  event: { id: string; type: string; occurred_at: number; properties: Record<string, unknown> };
  user: {
    line_user_id: string;
    following: boolean;
    attributes: Record<string, unknown>;
    answers: Record<string, unknown>;
  };
  enrollments: {
    id: string;
    scenario_id: string;
    status: ReplyEnrollment['status'];
    entered_at: number;
    waiting_for: string | null;
    enrollment_key: string | null;
  }[];
  scenarios: { id: string; hash: string; activated_at: number; definition: unknown }[];
}

/** The engine's decision for this follow, from what the database knows now. */
function decide(prepared: Prepared, now: number) {
  return planReply({
    event: {
      id: prepared.event.id,
      type: prepared.event.type,
      occurredAt: prepared.event.occurred_at,
      properties: prepared.event.properties,
    },
    user: {
      userId: prepared.user.line_user_id,
      following: prepared.user.following,
      attributes: prepared.user.attributes,
      answers: prepared.user.answers,
    },
    enrollments: prepared.enrollments.map((e) => ({
      id: e.id,
      scenarioId: e.scenario_id,
      status: e.status,
      enteredAt: e.entered_at,
      waitingFor: e.waiting_for ?? undefined,
      key: e.enrollment_key ?? undefined,
    })),
    scenarios: prepared.scenarios.map((s) => ({
      id: s.id,
      hash: s.hash,
      activatedAt: s.activated_at,
      definition: s.definition,
    })),
    now,
  });
}

/** Answers one follow by reply when the engine would send its first step now. Returns what happened, in words without ids. */
export async function replyToFollow(follow: FollowToAnswer, deps: ReplyDeps): Promise<string> {
  const now = deps.now?.() ?? Date.now();
  const skip = async (reason: string) => {
    await deps.rpc('lsd_reply_begin', { event_key: follow.eventKey, skip: reason, now });
    return `not replied: ${reason}`;
  };
  if (now - follow.timestamp > REPLY_WINDOW_MS) {
    return await skip(`too late to reply (${Math.round((now - follow.timestamp) / 1000)} s after the follow)`);
  }
  const prepared = (await deps.rpc('lsd_reply_prepare', { event_key: follow.eventKey, now })) as Prepared;
  if (prepared.none) return `not replied: ${prepared.none}`;
  const decision = decide(prepared, now);
  if ('none' in decision) return decision.entered ? await skip(decision.none) : `not replied: ${decision.none}`;
  const choice = decision.reply;
  const begun = (await deps.rpc('lsd_reply_begin', {
    event_key: follow.eventKey,
    scenario_id: choice.scenarioId,
    scenario_hash: choice.scenarioHash,
    step_id: choice.stepId,
    due_at: choice.dueAt,
    entered_at: choice.enteredAt,
    trigger: choice.trigger,
    lease_seconds: LEASE_SECONDS,
    now,
  })) as { go: boolean; reason?: string };
  if (!begun.go) return `not replied: ${begun.reason}`;
  const answer = await deps.sendReply(follow.replyToken, choice.messages);
  await deps.rpc('lsd_reply_finish', {
    event_key: follow.eventKey,
    outcome: answer.outcome,
    reason: answer.outcome === 'sent' ? null : answer.reason,
    request_id: answer.outcome === 'sent' ? (answer.requestId ?? null) : null,
    now: deps.now?.() ?? Date.now(),
  });
  return answer.outcome === 'sent' ? 'replied' : `reply ${answer.outcome}: ${answer.reason}`;
}
