// Runs the bundled action (dist/index.js) the way the Actions runner does: inputs as
// INPUT_* variables, the job summary and outputs as files.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  summary: string;
  outputs: string;
}

export async function runAction(inputs: Record<string, string>, options: { cwd: string; env?: Record<string, string> }): Promise<ActionRun> {
  const files = await mkdtemp(join(tmpdir(), 'lsd-action-'));
  const summaryFile = join(files, 'summary.md');
  const outputFile = join(files, 'output.txt');
  await writeFile(summaryFile, '');
  await writeFile(outputFile, '');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? files, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile, ...options.env };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(process.execPath, [resolve('dist/index.js')], { cwd: options.cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  return { code, stdout, stderr, summary: await readFile(summaryFile, 'utf8'), outputs: await readFile(outputFile, 'utf8') };
}
