// Migrations are append-only: a database set up by an earlier release has applied each
// file once and never reads it again, so an edit in place never reaches it. This fails
// when a file under supabase/migrations that was committed on main has since been
// changed, renamed or deleted (in a later commit or in the work tree). Run by .ci/run.
import { execFileSync } from 'node:child_process';

// The rule holds from this commit on (the files were edited in place before it).
const SINCE = 'f188888';
const DIR = 'supabase/migrations';
const git = (...args) => execFileSync('git', args, { encoding: 'utf8' }).trim();

try {
  git('cat-file', '-e', `${SINCE}^{commit}`);
} catch {
  console.error(`check-migrations: commit ${SINCE} is not in this clone; fetch the history (git fetch --unshallow) to check migrations.`);
  process.exit(1);
}
const changed = new Map();
for (const line of git('log', '--format=%h', '--name-status', '--diff-filter=MDR', `${SINCE}..HEAD`, '--', DIR).split('\n')) {
  const m = /^([MDR])\d*\t(\S+)/.exec(line);
  if (m) changed.set(m[2], m[1] === 'M' ? 'changed in a commit' : m[1] === 'D' ? 'deleted in a commit' : 'renamed in a commit');
}
for (const line of git('diff', '--name-status', '--diff-filter=MDR', 'HEAD', '--', DIR).split('\n')) {
  const m = /^([MDR])\d*\t(\S+)/.exec(line);
  if (m) changed.set(m[2], m[1] === 'M' ? 'changed in the work tree' : m[1] === 'D' ? 'deleted in the work tree' : 'renamed in the work tree');
}
if (changed.size) {
  for (const [file, how] of changed) console.error(`${file}: ${how}. Migrations are append-only: restore it and put the change in a new file.`);
  process.exit(1);
}
console.log(`check-migrations: no committed migration was changed since ${SINCE}.`);
