// Reads the scenario files as they are at another git revision (the PR's base branch),
// so the preview can say what the PR changes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { posix } from 'node:path';
import { SCHEMA_FILE_NAME } from '../scenario/loader.js';

const run = promisify(execFile);

export async function scenarioTextsAtRef(
  ref: string,
  dir: string,
  cwd = process.cwd(),
): Promise<{ file: string; text: string }[]> {
  const folder = posix.normalize(dir.replace(/\\/g, '/')).replace(/\/$/, '');
  try {
    await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd });
  } catch {
    throw new Error(
      `git revision "${ref}" is not in this clone: check out with fetch-depth: 0 (actions/checkout), or fetch the base branch first.`,
    );
  }
  const { stdout } = await run('git', ['ls-tree', '--name-only', `${ref}:${folder}`], { cwd }).catch(() => ({
    stdout: '',
  }));
  const names = stdout
    .split('\n')
    .filter((n) => n.endsWith('.json') && n !== SCHEMA_FILE_NAME)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const { stdout: text } = await run('git', ['show', `${ref}:${folder}/${name}`], {
        cwd,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { file: `${folder}/${name}`, text };
    }),
  );
}
