// The dispatcher's state (issue 28): its settings, the starts it decided with GitHub's
// answers, this month's runs and billed minutes, and whether the schedule (the safety net)
// had to act. Read by the tick's setup (the job summary), `dispatcher status`; written by
// `dispatcher setup`. The SQL is in supabase/migrations/20261207000100_dispatcher.sql.
import type { Rpc } from './rpc.js';

export interface DispatcherSettings {
  owner: string;
  repo: string;
  workflow: string;
  ref: string;
  inputs: Record<string, string>;
  minGapSeconds: number;
  /** Billed Actions minutes a month; null: no budget (or a public repository). */
  budgetMinutes: number | null;
  publicRepository: boolean;
  enabled: boolean;
  createdAt: number;
  /** When the cron job (or a webhook) last asked the decision; null: never. */
  lastDecidedAt: number | null;
  /** Why the last decision did not start a run (null: it did). */
  lastWaitReason: string | null;
}

export interface DispatchStart {
  decidedAt: number;
  /** cron, line-webhook, shop-events */
  origin: string;
  reasons: string[];
  /** requested (no answer yet), started, refused, rate_limited, failed */
  status: string;
  httpStatus: number | null;
  answer: string | null;
  answeredAt: number | null;
}

export interface DispatcherState {
  now: number;
  settings: DispatcherSettings | null;
  /** Newest first. */
  lastStarts: DispatchStart[];
  month: { runs: number; billedMinutes: number; budgetMinutes: number | null };
  /** Scheduled runs this month since setup; acted: those that found work (the dispatcher missed it). */
  safetyNet: { runs: number; acted: number };
}

/** What `dispatcher setup` may set; what is left out keeps its value. */
export interface DispatcherSetup {
  owner?: string | undefined;
  repo?: string | undefined;
  workflow?: string | undefined;
  ref?: string | undefined;
  inputs?: Record<string, string> | undefined;
  minGapSeconds?: number | undefined;
  /** null: no budget. */
  budgetMinutes?: number | null | undefined;
  publicRepository?: boolean | undefined;
  enabled?: boolean | undefined;
}

interface StatusRow {
  now: number;
  settings: {
    owner: string;
    repo: string;
    workflow: string;
    ref: string;
    inputs: Record<string, string>;
    min_gap_seconds: number;
    budget_minutes: number | null;
    public_repository: boolean;
    enabled: boolean;
    created_at: number;
    last_decided_at: number | null;
    last_wait_reason: string | null;
  } | null;
  last_starts: {
    decided_at: number;
    origin: string;
    reasons: string[];
    status: string;
    http_status: number | null;
    answer: string | null;
    answered_at: number | null;
  }[];
  month: { runs: number; billed_minutes: number; budget_minutes: number | null };
  safety_net: { runs: number; acted: number };
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toSettings(s: NonNullable<StatusRow['settings']>): DispatcherSettings {
  return {
    owner: s.owner,
    repo: s.repo,
    workflow: s.workflow,
    ref: s.ref,
    inputs: s.inputs,
    minGapSeconds: s.min_gap_seconds,
    budgetMinutes: s.budget_minutes,
    publicRepository: s.public_repository,
    enabled: s.enabled,
    createdAt: Number(s.created_at),
    lastDecidedAt: num(s.last_decided_at),
    lastWaitReason: s.last_wait_reason,
  };
}

/** The dispatcher's state at now (default: the database's clock); the last `limit` starts. */
export async function readDispatcher(rpc: Rpc, args: { now?: number; limit?: number } = {}): Promise<DispatcherState> {
  const r = await rpc.call<StatusRow>('lsd_dispatcher_status', { now: args.now, limit: args.limit ?? 10 });
  return {
    now: Number(r.now),
    settings: r.settings ? toSettings(r.settings) : null,
    lastStarts: r.last_starts.map((d) => ({
      decidedAt: Number(d.decided_at),
      origin: d.origin,
      reasons: d.reasons,
      status: d.status,
      httpStatus: d.http_status,
      answer: d.answer,
      answeredAt: num(d.answered_at),
    })),
    month: {
      runs: Number(r.month.runs),
      billedMinutes: Number(r.month.billed_minutes),
      budgetMinutes: r.month.budget_minutes,
    },
    safetyNet: { runs: Number(r.safety_net.runs), acted: Number(r.safety_net.acted) },
  };
}

/** Sets the dispatcher up (or changes the settings named); the database names a wrong one. */
export async function setupDispatcher(rpc: Rpc, setup: DispatcherSetup): Promise<DispatcherSettings> {
  const p: Record<string, unknown> = {
    owner: setup.owner,
    repo: setup.repo,
    workflow: setup.workflow,
    ref: setup.ref,
    inputs: setup.inputs,
    min_gap_seconds: setup.minGapSeconds,
    public_repository: setup.publicRepository,
    enabled: setup.enabled,
  };
  if (setup.budgetMinutes !== undefined) p.budget_minutes = setup.budgetMinutes;
  await rpc.call('lsd_dispatcher_setup', p);
  const state = await readDispatcher(rpc, { limit: 0 });
  return state.settings!;
}

/** Renews a running tick's heartbeat (the dispatcher starts no run while it is recent). */
export async function runHeartbeat(rpc: Rpc, args: { id: string; now: number }): Promise<void> {
  await rpc.call('lsd_run_heartbeat', args);
}
