// doctor's scenarios link: the files valid, each in force (registered with the same
// definition: a change registers at the next tick), none missing (registered, not retired,
// and its file gone: its users are held), and the rich menu aliases and ids they name
// present on the LINE channel (the same check as validate --line).
import { basename, relative, resolve } from 'node:path';
import { validateScenarios } from '../validate.js';
import { formatIssue } from '../../scenario/issues.js';
import type { DoctorFacts } from './database.js';
import { fix, note, notChecked, ok, type Check } from './checks.js';

export interface ScenarioLinkOptions {
  dir: string;
  cwd?: string;
  line?: { channelAccessToken: string; baseURL?: string | undefined } | undefined;
}

export async function scenarioChecks(options: ScenarioLinkOptions, facts: DoctorFacts | undefined): Promise<Check[]> {
  const cwd = options.cwd ?? process.cwd();
  const shown = relative(cwd, resolve(cwd, options.dir)) || '.';
  let outcome: Awaited<ReturnType<typeof validateScenarios>>;
  try {
    outcome = await validateScenarios({ dir: options.dir, cwd, ...(options.line ? { line: options.line } : {}) });
  } catch {
    return [fix('scenarios', 'files', `the folder ${shown} could not be read: run init, or give the scenario folder`)];
  }
  const { result } = outcome;
  if (!result.files.length)
    return [
      fix('scenarios', 'files', `no scenario files (*.json) in ${shown}: line-step-delivery init writes a sample`),
    ];
  const offline = result.issues.filter((i) => i.rule !== 'rich-menu');
  const checks: Check[] = [
    offline.length
      ? fix(
          'scenarios',
          'valid',
          `${offline.length} problem(s): ${offline.slice(0, 5).map(formatIssue).join(' · ')}${offline.length > 5 ? ' · …' : ''}`,
        )
      : ok('scenarios', 'valid', `${result.scenarios.length} scenario(s) in ${shown}`),
  ];
  // A file that does not validate is not missing: its name stands for its id (the files' convention).
  const present = [...result.scenarios.map((s) => s.compiled.id), ...result.files.map((f) => basename(f, '.json'))];
  const valid = result.scenarios.map((s) => ({ id: s.compiled.id, hash: s.compiled.hash }));
  checks.push(...registrationChecks(valid, present, facts));
  checks.push(richMenuCheck(outcome, Boolean(options.line)));
  return checks;
}

function registrationChecks(
  files: { id: string; hash: string }[],
  present: string[],
  facts: DoctorFacts | undefined,
): Check[] {
  if (!facts) return [notChecked('scenarios', 'in force', 'the database could not be read (see database above)')];
  const registered = new Map(facts.scenarios.map((s) => [s.id, s]));
  const fileIds = new Set(present);
  const inForce = files.filter((f) => registered.get(f.id)?.hash === f.hash).map((f) => f.id);
  const pending = files.filter((f) => registered.get(f.id)?.hash !== f.hash).map((f) => f.id);
  const missing = facts.scenarios.filter((s) => !s.retired && !fileIds.has(s.id)).map((s) => s.id);
  const checks: Check[] = [
    pending.length
      ? note(
          'scenarios',
          'in force',
          `${inForce.length} in force; new or changed since the last tick, in force at the next one: ${pending.join(', ')}`,
        )
      : ok('scenarios', 'in force', `all ${inForce.length} in force as written`),
  ];
  checks.push(
    missing.length
      ? fix(
          'scenarios',
          'missing',
          `registered but their file is gone, so their users are held: ${missing.join(', ')}. Put the file back, or end it on purpose with "status": "retired"`,
        )
      : ok('scenarios', 'missing', 'none'),
  );
  return checks;
}

function richMenuCheck(outcome: Awaited<ReturnType<typeof validateScenarios>>, asked: boolean): Check {
  if (!asked) return notChecked('scenarios', 'rich menus on LINE', 'no LINE_CHANNEL_ACCESS_TOKEN given');
  const check = outcome.lineCheck;
  if (!check) return notChecked('scenarios', 'rich menus on LINE', 'no LINE_CHANNEL_ACCESS_TOKEN given');
  if (!check.checked) return fix('scenarios', 'rich menus on LINE', check.error);
  const unknown = outcome.result.issues.filter((i) => i.rule === 'rich-menu');
  if (unknown.length) return fix('scenarios', 'rich menus on LINE', unknown.map(formatIssue).join(' · '));
  return ok(
    'scenarios',
    'rich menus on LINE',
    check.references
      ? `the ${check.references} rich menu(s) the scenarios name are on the channel`
      : 'the scenarios name none',
  );
}
