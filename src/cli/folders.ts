// The scenario folder or file a command names, and the refusals when it is not there: a
// folder given twice, a path that does not exist, a folder without scenario files.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { textOption, usageError, type ParsedArgs } from '../commands/command-line.js';

/** The scenario folder: the positional DIR, else --scenarios, else "scenarios"; both given and different is refused. */
export function scenarioFolder(parsed: ParsedArgs): string {
  const option = textOption(parsed, 'scenarios');
  const given = parsed.positional;
  if (given !== undefined && option !== undefined && given !== option)
    throw usageError(
      parsed.command,
      parsed.spec,
      `two scenario folders, "${given}" and --scenarios "${option}": give one`,
    );
  return given ?? option ?? 'scenarios';
}

/** Runs `then` when the path is a folder (or a file); else says it does not exist, exit 1. */
export async function whenFound(
  command: string,
  path: string,
  kind: 'file' | 'folder',
  then: () => Promise<number>,
): Promise<number> {
  const found = await stat(path).catch(() => undefined);
  if ((kind === 'file' ? found?.isFile() : found?.isDirectory()) ?? false) return then();
  const what = kind === 'file' ? 'the file' : 'the scenario folder';
  process.stderr.write(
    `line-step-delivery ${command}: ${what} "${path}" does not exist (looked for ${resolve(path)}).\n`,
  );
  return 1;
}

/** A folder without scenario files is a mistake (the wrong folder, most likely), never "valid". */
export function noScenarioFiles(command: string, dir: string): number {
  process.stderr.write(`line-step-delivery ${command}: no scenario files (*.json) in "${dir}" (${resolve(dir)}).\n`);
  return 1;
}
