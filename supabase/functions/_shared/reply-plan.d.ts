// generated: do not edit. Made from src/planner/reply.ts by scripts/generate-edge-modules.mjs;
// change it there, then run `node scripts/generate-edge-modules.mjs`.

export interface ReplyEvent { id: string; type: string; occurredAt: number; properties: Record<string, unknown> }
export interface ReplyUser { userId: string; following: boolean; attributes: Record<string, unknown>; answers: Record<string, unknown> }
export interface ReplyEnrollment { id: string; scenarioId: string; status: 'active' | 'finished' | 'exited'; enteredAt: number; waitingFor?: string | undefined; key?: string | undefined }
export interface ReplyScenario { id: string; hash: string; activatedAt: number; definition: unknown }
export interface ReplyInput { event: ReplyEvent; user: ReplyUser; enrollments: readonly ReplyEnrollment[]; scenarios: readonly ReplyScenario[]; now: number }
export interface ReplyChoice { scenarioId: string; scenarioHash: string; stepId: string; dueAt: number; enteredAt: number; trigger: Record<string, unknown>; messages: Record<string, unknown>[] }
export type ReplyDecision = { reply: ReplyChoice } | { none: string; entered: boolean };
export function planReply(input: ReplyInput): ReplyDecision;
