// The commands that read or write the state: import (a CSV into the events table) and run
// (one tick), with run's mode from --run-mode or its deprecated flags.
import { tickCommand } from '../commands/tick-command.js';
import { openStore, settingsFromEnv } from '../commands/config.js';
import { importCsv } from '../commands/import.js';
import { flagOption, textOption, usageError, type ParsedArgs } from '../commands/command-line.js';
import { openPglite } from '../store/pglite.js';
import { needsAPerson } from '../report/summary.js';
import { resolveRunMode, RunModeError, type RunMode, type RunModeAlias } from '../engine/index.js';

export async function importFile(file: string, list: string | undefined): Promise<number> {
  // Sets up a new database; one set up before is only checked (import never moves a schema forward).
  const store = await openStore(settingsFromEnv(), { openLocal: openPglite, access: 'set-up-new' });
  try {
    const r = await importCsv({
      file,
      list,
      store,
      progress: process.stderr.isTTY ? (n) => process.stderr.write(`\rrows: ${n}`) : undefined,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const e of r.errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
    process.stdout.write(
      `${r.rows} row(s): ${r.inserted} new event(s), ${r.unchanged} already imported, ${r.errors.length} with errors.\n`,
    );
    return r.errors.length ? 1 : 0;
  } finally {
    await store.close();
  }
}

/** --run-mode, or its deprecated flags (each warned about once); undefined when none is given. */
export function runModeOf(parsed: ParsedArgs): { runMode: RunMode | undefined; warnings: string[] } {
  const { command } = parsed;
  const aliases: RunModeAlias[] = [
    ...(flagOption(parsed, 'dry-run') ? [{ given: '--dry-run', mode: 'plan-only' as const }] : []),
    ...(flagOption(parsed, 'line-dry-run') ? [{ given: '--line-dry-run', mode: 'no-line' as const }] : []),
  ];
  const value = textOption(parsed, 'run-mode');
  const warnings: string[] = [];
  if (value === undefined && !aliases.length) return { runMode: undefined, warnings };
  try {
    const runMode = resolveRunMode({
      value,
      name: '--run-mode',
      write: (m) => `--run-mode=${m}`,
      aliases,
      fallback: 'send',
      warn: (message) => warnings.push(`line-step-delivery ${command}: warning: ${message}`),
    });
    return { runMode, warnings };
  } catch (error) {
    if (!(error instanceof RunModeError)) throw error;
    throw usageError(command, parsed.spec, error.message);
  }
}

export async function runOneTick(dir: string, given: ReturnType<typeof runModeOf>): Promise<number> {
  for (const warning of given.warnings) process.stderr.write(`${warning}\n`);
  const settings = settingsFromEnv();
  const { result, summary } = await tickCommand({
    settings,
    dir,
    // A terminal without a token runs the tick without LINE, unless send is asked for.
    mode: given.runMode ?? (settings.LINE_CHANNEL_ACCESS_TOKEN ? 'send' : 'no-line'),
    openLocalStore: openPglite,
    now: Date.now,
    progress: process.stderr.isTTY ? (what, n) => process.stderr.write(`\r${what}: ${n}`) : undefined,
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(summary);
  return needsAPerson(result).length ? 1 : 0;
}
