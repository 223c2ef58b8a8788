// run: one tick with the configured store and sender, shared by the action and the CLI.
import { loadScenarioDir } from '../scenario/loader.js';
import { formatIssue } from '../scenario/issues.js';
import { openLinkSigner, openSender, openStore, type LocalStoreOpener, type Settings } from './config.js';
import { runTick, type DatabasePlan, type RunMode, type TickResult } from '../engine/index.js';
import { tickSummary } from '../report/summary.js';
import { defaultPeriods, fetchPeriodReport } from '../report/period-report.js';
import { shortFunnelMarkdown } from '../report/report-markdown.js';
import { atLocalTime } from '../time/zoned.js';
import type { Store } from '../store/store.js';

export interface TickCommandOptions {
  settings: Settings;
  dir: string;
  /** send, plan-only (a what-if: nothing written) or no-line (state advances, LINE not called). */
  mode: RunMode;
  /** The CLI's local store when no database is configured; the action has none. */
  openLocalStore?: LocalStoreOpener | undefined;
  now: () => number;
  onlyScenario?: string | undefined;
  maxMessages?: number | undefined;
  shardIndex?: number | undefined;
  shardCount?: number | undefined;
  quotaReserve?: number | undefined;
  /** Rows older than this many days are removed (default 90); the database's plan for months left. */
  retentionDays?: number | undefined;
  databasePlan?: DatabasePlan | undefined;
  frequencyCap?: { perDay: number; timezone: string } | undefined;
  intervalMinutes?: number | undefined;
  /** Today's p95 lateness past this many seconds needs a person (the alert issue opens). */
  latenessAlertSeconds?: number | undefined;
  trigger?: string | undefined;
  progress?: ((what: string, done: number) => void) | undefined;
}

export class ScenarioProblems extends Error {}

export async function tickCommand(options: TickCommandOptions): Promise<{ result: TickResult; summary: string }> {
  // Fail fast, before any I/O: an invalid scenario stops the run before any send.
  const loaded = await loadScenarioDir(options.dir);
  if (loaded.issues.length)
    throw new ScenarioProblems(
      `the scenarios have ${loaded.issues.length} problem(s); nothing was sent:\n${loaded.issues.map(formatIssue).join('\n')}`,
    );
  if (options.onlyScenario && !loaded.scenarios.some((s) => s.scenario.id === options.onlyScenario)) {
    throw new ScenarioProblems(`only-scenario: there is no scenario "${options.onlyScenario}" in ${options.dir}`);
  }
  // A what-if writes nothing, the schema included; a tick that advances state brings it forward.
  const store = await openStore(options.settings, {
    openLocal: options.openLocalStore,
    access: options.mode === 'plan-only' ? 'read-only' : 'migrate',
  });
  try {
    const sender = openSender(options.settings, { mode: options.mode, shardCount: options.shardCount });
    const result = await runTick({
      store,
      sender,
      scenarios: loaded.scenarios.map((s) => s.compiled),
      now: options.now,
      mode: options.mode,
      onlyScenario: options.onlyScenario,
      maxMessages: options.maxMessages,
      shardIndex: options.shardIndex,
      shardCount: options.shardCount,
      quotaReserve: options.quotaReserve,
      retentionDays: options.retentionDays,
      databasePlan: options.databasePlan,
      frequencyCap: options.frequencyCap,
      linkSigner: openLinkSigner(options.settings),
      trigger: options.trigger,
      progress: options.progress,
      pageSize: options.mode === 'plan-only' ? 5000 : 500,
    });
    let summary = tickSummary(result, {
      now: options.now(),
      store: store.label,
      sender: sender.label,
      mode: options.mode,
      intervalMinutes: options.intervalMinutes ?? 5,
      latenessAlertSeconds: options.latenessAlertSeconds,
    });
    // Once a day (the first tick after midnight in Tokyo, shard 0), the week's funnels at the
    // foot: the report costs about a second on a large database, too much for every tick.
    if (
      options.mode !== 'plan-only' &&
      (options.shardIndex ?? 0) === 0 &&
      firstTickOfDay(result.previousRunAt, options.now())
    ) {
      summary += await weekFunnels(store, options.now());
    }
    return { result, summary };
  } finally {
    await store.close();
  }
}

const FUNNEL_ZONE = 'Asia/Tokyo';

/** True when no tick ran yet today (local day in Tokyo, the report's zone). */
export function firstTickOfDay(previousRunAt: number | null, now: number): boolean {
  return previousRunAt === null || previousRunAt < atLocalTime(now, 0, 0, FUNNEL_ZONE);
}

async function weekFunnels(store: Store, now: number): Promise<string> {
  try {
    const [week] = defaultPeriods(now);
    return `\n${shortFunnelMarkdown(await fetchPeriodReport(store, week!))}`;
  } catch (error) {
    return `\n> The week's funnels could not be read (${error instanceof Error ? error.name : 'error'}); \`mode: report\` shows them.\n`;
  }
}
