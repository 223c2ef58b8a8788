// Migrations are append-only: a database set up by an earlier release has applied each
// file once and never reads it again, so an edit in place never reaches it. This fails
// when a file under supabase/migrations that was committed on main differs now (in HEAD or
// in the work tree) from the content it was first committed with, or is gone. Run by .ci/run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

// The rule holds from this commit on: files committed before it count as first committed
// with their content there (they were edited in place before it).
const SINCE = 'f188888';
const DIR = 'supabase/migrations';
const git = (...args) => execFileSync('git', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

try {
  git('cat-file', '-e', `${SINCE}^{commit}`);
} catch {
  console.error(
    `check-migrations: commit ${SINCE} is not in this clone; fetch the history (git fetch --unshallow) to check migrations.`,
  );
  process.exit(1);
}

/** Every migration file ever committed since SINCE (or present at SINCE), with its first commit. */
const firstCommit = new Map();
for (const name of git('ls-tree', '--name-only', `${SINCE}:${DIR}`).split('\n').filter(Boolean))
  firstCommit.set(`${DIR}/${name}`, SINCE);
const log = git(
  'log',
  '--reverse',
  '--format=commit %H',
  '--name-status',
  '--diff-filter=A',
  `${SINCE}..HEAD`,
  '--',
  DIR,
);
let commit;
for (const line of log.split('\n')) {
  if (line.startsWith('commit ')) commit = line.slice(7);
  const m = /^A\t(.+)$/.exec(line);
  if (m && !firstCommit.has(m[1])) firstCommit.set(m[1], commit);
}

const problems = [];
for (const [file, first] of firstCommit) {
  const original = git('show', `${first}:${file}`);
  if (!existsSync(file)) problems.push(`${file}: deleted (first committed in ${first.slice(0, 7)}).`);
  else if (readFileSync(file, 'utf8') !== original)
    problems.push(`${file}: changed since it was first committed in ${first.slice(0, 7)}.`);
}
if (problems.length) {
  for (const p of problems)
    console.error(`${p} Migrations are append-only: restore it and put the change in a new file.`);
  process.exit(1);
}
console.log(`check-migrations: ${firstCommit.size} committed migration file(s), none changed.`);
