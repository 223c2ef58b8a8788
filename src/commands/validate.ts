// validate: every scenario file checked, the JSON Schema's freshness, and the preview
// (with what the change does against a base revision, when one is given), and with a
// channel token the rich menus the scenarios name, on LINE.
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { loadScenarioDir, loadScenarioTexts, SCHEMA_FILE_NAME, type LoadResult } from '../scenario/loader.js';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';
import { diffScenarioSets, removedScenarioIssues, type ScenarioChange } from '../preview/diff.js';
import { scenarioTextsAtRef } from '../preview/git-base.js';
import { previewMarkdown } from '../preview/markdown.js';
import { type LineCheck, type LineCheckOptions } from '../line/rich-menus-on-line.js';
import { checkOnLine } from '../line/coupons-on-line.js';

export interface ValidateOptions {
  dir: string;
  baseRef?: string;
  cwd?: string;
  /** Also check the rich menus the scenarios name against the LINE channel (validate --line). */
  line?: LineCheckOptions | undefined;
}

export interface ValidateOutcome {
  result: LoadResult;
  changes?: ScenarioChange[];
  /** The schema file beside the scenarios differs from this version's (or is missing). */
  schemaStale: boolean;
  markdown: string;
  /** With `line`: the rich menus checked on LINE (their issues are in result.issues), or why they could not be. */
  lineCheck?: LineCheck;
}

export async function validateScenarios(options: ValidateOptions): Promise<ValidateOutcome> {
  const cwd = options.cwd ?? process.cwd();
  // An absolute folder is taken as it is; a relative one from cwd (the repository's root in the action).
  const dir = resolve(cwd, options.dir);
  const result = await loadScenarioDir(dir, cwd);
  let changes: ScenarioChange[] | undefined;
  if (options.baseRef) {
    const base = loadScenarioTexts(await scenarioTextsAtRef(options.baseRef, relative(cwd, dir) || '.', cwd));
    changes = diffScenarioSets(
      base.scenarios.map((s) => s.scenario),
      result.scenarios.map((s) => s.scenario),
    );
    // A scenario removed or renamed without being retired first is an error.
    result.issues.push(...removedScenarioIssues(base.scenarios, result.scenarios));
  }
  // The rich menus and the coupons the scenarios name, on LINE: what could be checked stands.
  const onLine = options.line ? await checkOnLine(result.scenarios, options.line) : undefined;
  const lineCheck = onLine?.check;
  if (onLine) result.issues.push(...onLine.issues);
  const schemaOnDisk = await readFile(join(dir, SCHEMA_FILE_NAME), 'utf8').catch(() => undefined);
  const schemaStale = schemaOnDisk !== scenarioJsonSchemaText();
  return {
    result,
    ...(changes ? { changes } : {}),
    schemaStale,
    markdown: previewMarkdown({ result, ...(changes ? { changes } : {}) }),
    ...(lineCheck ? { lineCheck } : {}),
  };
}
