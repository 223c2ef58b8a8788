// The action's mode doctor: doctor run with the repository's secrets as the workflow passes
// them, its checks in the log, each fix as an error annotation, the table in the job summary,
// and a failed step when a link is broken.
import * as core from '@actions/core';
import { checksMarkdown, doctor, formatChecks } from '../commands/doctor.js';
import type { Settings } from '../commands/config.js';

export async function doctorMode(settings: Settings): Promise<void> {
  const outcome = await doctor({
    settings,
    source: 'action',
    dir: core.getInput('scenarios') || 'scenarios',
    expectChannel: core.getInput('line-channel').trim() || undefined,
  });
  core.info(formatChecks(outcome.checks));
  const fixes = outcome.checks.filter((c) => c.status === 'fix');
  for (const c of fixes) core.error(`${c.name}: ${c.text}`, { title: `doctor: ${c.link}` });
  await core.summary.addRaw(checksMarkdown(outcome.checks)).write();
  core.setOutput('doctor-fixes', fixes.length);
  if (outcome.broken) core.setFailed(`${fixes.length} link(s) to fix, in the order of the job summary.`);
}
