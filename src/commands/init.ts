// line-step-delivery init: in the user's repository, the workflows (the tick on a schedule
// and on dispatch, the PR check, the daily report, doctor) with a uses: line naming this package's
// own repository and release, a scenarios/ folder with the JSON Schema and one sample, and
// the remaining steps as a checklist with the exact names. A file already there is left as
// it is unless --force; the outcome says what was written and what was left.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';
import { SCHEMA_FILE_NAME } from '../scenario/loader.js';
import { initChecklist } from './init-checklist.js';

/** The example workflows init writes, from examples/workflows/ of the package. */
export const WORKFLOWS = ['step-delivery.yml', 'scenarios.yml', 'report.yml', 'doctor.yml'] as const;

export const DEFAULT_SAMPLE = 'friend-welcome';

export interface InitOptions {
  /** The user's repository (default the working directory). */
  cwd?: string;
  /** The sample scenario to start from (a file name of the package's scenarios/, without .json). */
  sample?: string | undefined;
  /** The scenario folder, from the repository's root. */
  dir?: string | undefined;
  /** Overwrite files that are there. */
  force?: boolean | undefined;
  /** owner/repo@ref for the uses: lines, instead of the package's own repository and version. */
  uses?: string | undefined;
  /** The package's root (tests); found from this module otherwise. */
  packageRoot?: string;
}

export type InitOutcome =
  | { ok: true; wrote: string[]; left: string[]; uses: string; usesIsPlaceholder: boolean; checklist: string }
  | { ok: false; error: string };

interface PackageInfo {
  root: string;
  version: string;
  /** owner/name of the GitHub repository, from package.json's repository. */
  repository: string;
}

/** The package's root: the nearest folder up from this module whose package.json is line-step-delivery's (src/commands in a clone, dist/cli once bundled). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && existsSync(join(dir, 'examples', 'workflows'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`line-step-delivery init: the package's files were not found above ${from}`);
  }
}

async function packageInfo(root: string): Promise<PackageInfo> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string;
    repository?: string | { url?: string };
  };
  const url = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
  const match = /github\.com[/:]([^/]+)\/([^/.]+)(?:\.git)?$/.exec(url) ?? /^(?:github:)?([^/:]+)\/([^/]+)$/.exec(url);
  return { root, version: pkg.version, repository: match ? `${match[1]}/${match[2]}` : 'OWNER/line-step-delivery' };
}

/** The samples the package carries: scenarios/*.json without the schema, by name. */
export async function sampleNames(root = packageRoot()): Promise<string[]> {
  return (await readdir(join(root, 'scenarios')))
    .filter((f) => f.endsWith('.json') && f !== SCHEMA_FILE_NAME)
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** An example workflow with its uses: line pinned, and its "copy this file and replace OWNER" note gone. */
export function pinWorkflow(text: string, uses: string): string {
  return text
    .replace(/OWNER\/line-step-delivery@v1/g, uses)
    .replace(
      /Copy this file into(?:\s|#)+your(?:\s|#)+repository as[\s\S]*?(?:SHA\)|uses: line)\./,
      `Written by line-step-delivery init, with the action pinned to ${uses}.`,
    );
}

const USES = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+@[A-Za-z0-9._/-]+$/;

export async function init(options: InitOptions = {}): Promise<InitOutcome> {
  const cwd = resolve(options.cwd ?? '.');
  const info = await packageInfo(options.packageRoot ?? packageRoot());
  const samples = await sampleNames(info.root);
  const sample = options.sample ?? DEFAULT_SAMPLE;
  if (!samples.includes(sample))
    return { ok: false, error: `there is no sample "${sample}". The samples: ${samples.join(', ')}` };
  if (options.uses !== undefined && !USES.test(options.uses))
    return { ok: false, error: `--uses "${options.uses}" is not owner/repo@ref (e.g. my-org/line-step-delivery@v1)` };
  const uses = options.uses ?? `${info.repository}@v${info.version}`;
  const dir = options.dir ?? 'scenarios';
  const files: [string, string][] = [];
  for (const w of WORKFLOWS) {
    const text = await readFile(join(info.root, 'examples', 'workflows', w), 'utf8');
    files.push([join('.github', 'workflows', w), pinWorkflow(text, uses)]);
  }
  files.push([join(dir, SCHEMA_FILE_NAME), scenarioJsonSchemaText()]);
  files.push([join(dir, `${sample}.json`), await readFile(join(info.root, 'scenarios', `${sample}.json`), 'utf8')]);
  const wrote: string[] = [];
  const left: string[] = [];
  for (const [path, text] of files) {
    const target = join(cwd, path);
    if (existsSync(target) && !options.force) {
      left.push(relative(cwd, target));
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    wrote.push(relative(cwd, target));
  }
  const usesIsPlaceholder = uses.startsWith('OWNER/');
  return {
    ok: true,
    wrote,
    left,
    uses,
    usesIsPlaceholder,
    checklist: initChecklist({ uses, dir, repository: uses.split('@')[0]!, ref: uses.split('@')[1]! }),
  };
}

/** What init prints: what it wrote, what it left, then the checklist. */
export function initReport(outcome: Extract<InitOutcome, { ok: true }>): string {
  const out: string[] = [];
  for (const f of outcome.wrote) out.push(`wrote ${f}`);
  for (const f of outcome.left) out.push(`left  ${f} (it is there: --force overwrites it)`);
  if (outcome.usesIsPlaceholder)
    out.push(
      `\nThe workflows say uses: ${outcome.uses}: this package does not name its GitHub repository. Replace OWNER with the account that hosts the action (or run init again with --uses owner/repo@ref --force).`,
    );
  out.push('', outcome.checklist);
  return `${out.join('\n')}\n`;
}
