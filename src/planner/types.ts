// What the planner reads and returns. Instants are epoch milliseconds.
import type { Message } from '../scenario/messages.js';
import type { ActionChange } from './actions.js';

/** What the engine knows of one LINE user, as the store hands it to the planner. */
export interface UserFacts {
  /** The LINE user id: seeds the A/B split and nothing else here. */
  userId: string;
  following: boolean;
  /** gender, ageBand, os, region, tags, linked, timezone, displayName, ... */
  attributes: Record<string, unknown>;
  /** Survey answers by question id. */
  answers: Record<string, unknown>;
}

export interface EventFact {
  id: string;
  type: string;
  occurredAt: number;
  properties: Record<string, unknown>;
}

export type EnrollmentStatus = 'active' | 'finished' | 'exited';

/** An enrollment's place in its scenario, as stored between ticks. */
export interface EnrollmentState {
  id: string;
  scenarioId: string;
  /** The definition (hash) the enrollment was last planned with. */
  scenarioHash: string;
  enteredAt: number;
  /** The trigger event's properties: placeholders and trigger dates read them. */
  trigger: Record<string, unknown>;
  /** The step to do next, or "end". */
  stepId: string;
  /** The moment of the previous step (the entry, for the first step). */
  previousAt: number;
  /** A wait step that has begun: when it began. */
  waitStartedAt?: number | undefined;
  converted: boolean;
}

export type Decision =
  | {
      kind: 'send';
      stepId: string;
      /** The step's moment (inside the send window). */
      dueAt: number;
      messages: Message[];
      /** Same messages for every recipient: may be batched into one multicast. */
      uniform: boolean;
      aggregationUnit: string;
    }
  /** An action step: the user's tags and attributes change, the rich menu is linked or unlinked. */
  | ({ kind: 'act'; stepId: string; dueAt: number } & ActionChange)
  | { kind: 'branch'; stepId: string; to: string; via: string }
  | { kind: 'expire'; stepId: string; dueAt: number; reason: string }
  /** A step not done because the user is in the scenario's holdout group (docs/measuring.md): nothing goes to LINE. */
  | { kind: 'holdout'; stepId: string; dueAt: number }
  | { kind: 'fail'; stepId: string; reason: string };

export type Outcome =
  | { kind: 'wait'; until: number; waitingFor?: string | undefined }
  | { kind: 'finish' }
  | { kind: 'exit'; reason: string };

export interface Plan {
  decisions: Decision[];
  outcome: Outcome;
  /** The enrollment after this plan (stored as is). */
  state: EnrollmentState;
  /** Set when the goal was reached in this plan (counted once: state.converted). */
  conversionAt?: number;
}
