// The pull request's base commit, fetched when the checkout does not have it: actions/checkout
// fetches one commit by default, and the preview compares the scenarios with the base's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function hasCommit(sha: string, cwd: string): Promise<boolean> {
  return run('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd }).then(
    () => true,
    () => false,
  );
}

/**
 * Makes sure `sha` is in the clone at `cwd`, fetching that one commit from origin (with the
 * credentials actions/checkout left) when it is missing. Says whether it is there now; when
 * it is not, the preview's own error tells how to check out with the base.
 */
export async function ensureCommit(sha: string, cwd = process.cwd()): Promise<boolean> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(sha)) return false;
  if (await hasCommit(sha, cwd)) return true;
  const fetchOne = ['fetch', '--no-tags', '--depth=1', 'origin', sha];
  await run('git', fetchOne, { cwd, timeout: 120_000 }).catch(() => undefined);
  return hasCommit(sha, cwd);
}
