// The GitHub Action: reads inputs, runs the mode, writes the job summary and outputs.
// Exit code is non-zero only when a person must act.
import * as core from '@actions/core';
import { validateScenarios } from '../commands/validate.js';
import { formatJsonPath } from '../scenario/json-source.js';

async function validateMode(): Promise<void> {
  const dir = core.getInput('scenarios') || 'scenarios';
  const baseRef = core.getInput('base-ref');
  const outcome = await validateScenarios({ dir, ...(baseRef ? { baseRef } : {}) });
  for (const issue of outcome.result.issues) {
    // Annotations show on the PR's "Files changed" tab, at the line.
    core.error(`${formatJsonPath(issue.path)}: ${issue.message}`, {
      title: `scenario ${issue.rule}`,
      file: issue.file,
      startLine: issue.line,
      startColumn: issue.column,
    });
  }
  if (outcome.schemaStale) core.warning(`${dir}/scenario.schema.json is missing or out of date: run "npx line-step-delivery schema" and commit it.`);
  await core.summary.addRaw(outcome.markdown).write();
  core.setOutput('scenarios', outcome.result.scenarios.length);
  core.setOutput('problems', outcome.result.issues.length);
  if (outcome.result.issues.length) core.setFailed(`${outcome.result.issues.length} problem(s) in the scenarios: see the annotations and the job summary.`);
}

export async function run(): Promise<void> {
  const mode = core.getInput('mode') || 'run';
  try {
    switch (mode) {
      case 'validate':
        await validateMode();
        break;
      default:
        core.setFailed(`mode "${mode}" is not available in this version: use "validate".`);
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
