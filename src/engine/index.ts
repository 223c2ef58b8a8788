// The engine's one entry point: a tick (runTick), planning one scenario alone (planAlone),
// the run modes and what a tick counts. Everything outside src/engine imports from here;
// the phases (setup, events, due, what-if) and the pure decisions of a page (decide/) are
// the engine's own.
export { runTick, planAlone, type TickOptions, type TickResult } from './tick.js';
export type { FrequencyCap } from './decide/frequency-cap.js';
export type { Counted, TickCounts } from './counts.js';
export * from './run-mode.js';
export {
  parseRetentionDays,
  parseDatabasePlan,
  outlook,
  DEFAULT_RETENTION_DAYS,
  type DatabasePlan,
  type RetentionResult,
  type StorageOutlook,
} from './retention.js';
