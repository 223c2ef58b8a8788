// The packaged action in validate mode, as a PR check runs it.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../support/run-action.js';
import { baseScenario, toText } from '../support/scenarios.js';

async function repoWithScenario(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-repo-'));
  await mkdir(join(dir, 'scenarios'));
  await copyFile('scenarios/scenario.schema.json', join(dir, 'scenarios/scenario.schema.json'));
  await writeFile(join(dir, 'scenarios/cart.json'), toText(baseScenario()));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'base', '--allow-empty');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'scenarios');
  return dir;
}

test('validate mode: a valid change passes and the summary shows what it does', async () => {
  const dir = await repoWithScenario();
  const retimed = baseScenario();
  retimed.steps[1] = { ...retimed.steps[1]!, wait: { after: { days: 2 }, at: '10:00' } };
  await writeFile(join(dir, 'scenarios/cart.json'), toText(retimed));
  const run = await runAction({ mode: 'validate', scenarios: 'scenarios', 'base-ref': 'HEAD' }, { cwd: dir });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.summary, /✅ 1 scenario\(s\) valid/);
  assert.match(run.summary, /step \*\*second\*\* retimed/);
  assert.match(run.summary, /```mermaid\nflowchart TD/);
  assert.match(run.outputs, /problems<<.*\n0\n/);
});

test('validate mode: a broken scenario fails the check with an annotation at the line', async () => {
  const dir = await repoWithScenario();
  const broken = baseScenario();
  (broken.steps[0] as { next?: string }).next = 'secnod';
  const text = toText(broken);
  await writeFile(join(dir, 'scenarios/cart.json'), text);
  const run = await runAction({ mode: 'validate', scenarios: 'scenarios' }, { cwd: dir });
  assert.equal(run.code, 1);
  const line = text.split('\n').findIndex((l) => l.includes('"secnod"')) + 1;
  assert.match(
    run.stdout,
    new RegExp(
      `::error title=scenario unknown-step,file=scenarios/cart.json,line=${line},col=\\d+::\\$\\.steps\\[0\\]\\.next: there is no step "secnod". Did you mean "second"\\?`,
    ),
  );
  assert.match(run.summary, /❌ 1 problem/);
});

test('validate mode: a base revision missing from a shallow clone gets a clear error', async () => {
  const dir = await repoWithScenario();
  const run = await runAction({ mode: 'validate', 'base-ref': 'origin/nope' }, { cwd: dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /git revision "origin\/nope" is not in this clone: check out with fetch-depth: 0/);
});

test('validate mode: a folder with no scenario files fails the check instead of passing on nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-repo-'));
  await mkdir(join(dir, 'flows'));
  const run = await runAction({ mode: 'validate', scenarios: 'flows' }, { cwd: dir });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /no scenario files \(\*\.json\) in "flows"/);
});
