// Reads every scenario file of a folder and validates them all, so that one run reports
// every mistake at once. Nothing here does I/O beyond reading the files.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { compileScenario, type CompiledScenario } from './compile.js';
import type { ScenarioIssue } from './issues.js';
import type { Scenario } from './schema.js';
import type { ParsedJson } from './json-source.js';
import { validateScenarioText } from './validate.js';
import { checkTagCaseAcross } from './validate-tags.js';

export const SCHEMA_FILE_NAME = 'scenario.schema.json';

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  compiled: CompiledScenario;
  /** Where a JSON path of the file is: for checks made after loading (rich menus on LINE). */
  positionOf?: ParsedJson['positionOf'];
}

export interface LoadResult {
  scenarios: LoadedScenario[];
  issues: ScenarioIssue[];
  files: string[];
}

export async function scenarioFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => n.endsWith('.json') && n !== SCHEMA_FILE_NAME)
    .sort()
    .map((n) => join(dir, n));
}

/** Validates texts already in memory: {file name: text}. Used by the loader and the PR diff. */
export function loadScenarioTexts(texts: { file: string; text: string }[]): LoadResult {
  const scenarios: LoadedScenario[] = [];
  const issues: ScenarioIssue[] = [];
  const byId = new Map<string, string>();
  for (const { file, text } of texts) {
    const result = validateScenarioText(file, text);
    issues.push(...result.issues);
    if (!result.scenario) continue;
    const other = byId.get(result.scenario.id);
    if (other) {
      issues.push({
        file,
        path: ['id'],
        line: 1,
        column: 1,
        rule: 'duplicate-scenario',
        message: `scenario id "${result.scenario.id}" is also used by ${other}: each scenario needs its own id.`,
      });
      continue;
    }
    byId.set(result.scenario.id, file);
    scenarios.push({
      file,
      scenario: result.scenario,
      compiled: { ...compileScenario(result.scenario), file },
      ...(result.positionOf ? { positionOf: result.positionOf } : {}),
    });
  }
  issues.push(...checkTagCaseAcross(scenarios));
  return { scenarios, issues, files: texts.map((t) => t.file) };
}

export async function loadScenarioDir(dir: string, cwd = process.cwd()): Promise<LoadResult> {
  const files = await scenarioFiles(dir);
  const texts = await Promise.all(
    files.map(async (f) => ({ file: relative(cwd, f) || f, text: await readFile(f, 'utf8') })),
  );
  return loadScenarioTexts(texts);
}
