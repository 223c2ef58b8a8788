// Runs the bundled action (dist/index.js) the way the Actions runner does: inputs as
// INPUT_* variables, the job summary and outputs as files, and nothing else of this
// machine's environment but PATH and HOME.
import { spawn, execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  summary: string;
  outputs: string;
}

export interface RunActionOptions {
  /** The working directory: the checked-out repository, where relative inputs are read. */
  cwd: string;
  /** The folder holding dist/index.js (the action's own checkout); default this project. */
  dir?: string;
  /** GITHUB_EVENT_NAME; default "schedule". */
  event?: string;
  env?: Record<string, string>;
}

/** The variable the runner sets for an input, as @actions/core's getInput reads it: spaces become
 * underscores, hyphens stay ("run-mode" is INPUT_RUN-MODE). */
export const inputVariable = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

export async function runAction(inputs: Record<string, string>, options: RunActionOptions): Promise<ActionRun> {
  const files = await mkdtemp(join(tmpdir(), 'lsd-action-'));
  const summaryFile = join(files, 'summary.md');
  const outputFile = join(files, 'output.txt');
  await writeFile(summaryFile, '');
  await writeFile(outputFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? files,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: outputFile,
    GITHUB_EVENT_NAME: options.event ?? 'schedule',
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value;
  const child = spawn(process.execPath, [join(resolve(options.dir ?? '.'), 'dist', 'index.js')], {
    cwd: options.cwd,
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  const run = {
    code,
    stdout,
    stderr,
    summary: await readFile(summaryFile, 'utf8'),
    outputs: await readFile(outputFile, 'utf8'),
  };
  await rm(files, { recursive: true, force: true });
  return run;
}

/** One output's value from the GITHUB_OUTPUT file (name<<delimiter, value, delimiter). */
export function actionOutput(run: ActionRun, name: string): string | undefined {
  const match = new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(run.outputs);
  return match?.[2];
}

/**
 * A copy of the project's tracked files as they are in the working tree, with no
 * node_modules: what the runner checks out for `uses: owner/line-step-delivery@v1` (on CI's
 * fresh clone, the same as `git archive HEAD`). remove() deletes it.
 */
export async function bareCheckout(root = process.cwd()): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-checkout-'));
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f))); // a tracked file deleted in the working tree is not copied
  for (const file of tracked) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(root, file), join(dir, file));
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Runs the action's entry in this process (for tests whose loopback servers live here),
 * capturing what it prints; returns core.setFailed's exit code and gives this test process
 * back its own.
 */
export async function runInProcess(run: () => Promise<void>): Promise<{ exitCode: number; stdout: string }> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string) => (out.push(String(chunk)), true);
  try {
    await run();
  } finally {
    process.stdout.write = write;
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { exitCode, stdout: out.join('') };
}
