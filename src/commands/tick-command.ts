// run: one tick with the configured store and sender, shared by the action and the CLI.
import { loadScenarioDir } from '../scenario/loader.js';
import { formatIssue } from '../scenario/issues.js';
import { openLinkSigner, openSender, openStore, type LocalStoreOpener, type Settings } from '../config.js';
import { runTick, type TickResult } from '../tick.js';
import { tickSummary } from '../report/summary.js';

export interface TickCommandOptions {
  settings: Settings;
  dir: string;
  /** Plan only: nothing sent, nothing changed. */
  planOnly: boolean;
  /** LINE in dry run: state advances, LINE is not called (local demo and CLI). */
  dryRunSender: boolean;
  /** The CLI's local store when no database is configured; the action has none. */
  openLocalStore?: LocalStoreOpener | undefined;
  requireToken: boolean;
  now: () => number;
  onlyScenario?: string | undefined;
  maxMessages?: number | undefined;
  shardIndex?: number | undefined;
  shardCount?: number | undefined;
  quotaReserve?: number | undefined;
  frequencyCap?: { perDay: number; timezone: string } | undefined;
  intervalMinutes?: number | undefined;
  trigger?: string | undefined;
  progress?: ((what: string, done: number) => void) | undefined;
}

export class ScenarioProblems extends Error {}

export async function tickCommand(options: TickCommandOptions): Promise<{ result: TickResult; summary: string }> {
  // Fail fast, before any I/O: an invalid scenario stops the run before any send.
  const loaded = await loadScenarioDir(options.dir);
  if (loaded.issues.length) throw new ScenarioProblems(`the scenarios have ${loaded.issues.length} problem(s); nothing was sent:\n${loaded.issues.map(formatIssue).join('\n')}`);
  if (options.onlyScenario && !loaded.scenarios.some((s) => s.scenario.id === options.onlyScenario)) {
    throw new ScenarioProblems(`only-scenario: there is no scenario "${options.onlyScenario}" in ${options.dir}`);
  }
  const store = await openStore(options.settings, { openLocal: options.openLocalStore });
  try {
    const sender = openSender(options.settings, { dryRun: options.dryRunSender || options.planOnly, requireToken: options.requireToken, shardCount: options.shardCount });
    const result = await runTick({
      store,
      sender,
      scenarios: loaded.scenarios.map((s) => s.compiled),
      now: options.now,
      planOnly: options.planOnly,
      onlyScenario: options.onlyScenario,
      maxMessages: options.maxMessages,
      shardIndex: options.shardIndex,
      shardCount: options.shardCount,
      quotaReserve: options.quotaReserve,
      frequencyCap: options.frequencyCap,
      linkSigner: openLinkSigner(options.settings),
      trigger: options.trigger,
      progress: options.progress,
      pageSize: options.planOnly ? 5000 : 500,
    });
    const summary = tickSummary(result, { now: options.now(), store: store.label, sender: sender.label, planOnly: options.planOnly, intervalMinutes: options.intervalMinutes ?? 5 });
    return { result, summary };
  } finally {
    await store.close();
  }
}
