// The CLI as a user installs it: the project packed with `npm pack`, the tarball installed
// into an empty folder, and `npx line-step-delivery …` run there with a scenarios/ folder of
// the samples. One install for the whole file.
import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { nodeVersionProblem } from '../../bin/node-version.js';
import { baseScenario, toText } from '../support/scenarios.js';

const root = process.cwd();
let work = '';
let app = '';
let packed: string[] = [];
/** The machine's network setup that npm needs to reach its registry (a proxy, an extra CA). */
const NETWORK_SETUP =
  /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|npm_config_(cache|registry|cafile|strict_ssl|proxy|https_proxy|noproxy))$/;
/** This project's Node (24) first on PATH, as a user with a current Node has it. */
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => NETWORK_SETUP.test(name))),
  PATH: [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter),
  HOME: process.env.HOME ?? tmpdir(),
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lsd-packed-'));
  const npm = (args: string[], cwd: string) =>
    // A timeout: npm retries a registry it cannot reach for many minutes, and a synchronous
    // call would hold the test past its own timeout.
    execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 200_000 });
  const [pack] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root)) as {
    filename: string;
    files: { path: string }[];
  }[];
  packed = pack!.files.map((f) => f.path);
  app = join(work, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  npm(['install', join(work, pack!.filename), '--no-audit', '--no-fund', '--prefer-offline'], app);
  await cp(join(root, 'scenarios'), join(app, 'scenarios'), { recursive: true });
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Cli> {
  return new Promise((done) => {
    execFile(
      'npx',
      ['line-step-delivery', ...args],
      { cwd: app, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Commands that only read, run at once: each npx start costs about a second. */
async function inParallel(commands: string[][]): Promise<[string[], Cli][]> {
  return Promise.all(commands.map(async (args) => [args, await cli(...args)] as [string[], Cli]));
}

test('the package carries what the CLI needs at run time, and no sources or tests', () => {
  for (const file of [
    'bin/line-step-delivery.js',
    'bin/node-version.js',
    'dist/cli/index.js',
    'dist/cli/package.json',
    'scenarios/scenario.schema.json',
  ]) {
    assert.ok(packed.includes(file), `${file} is in the package`);
  }
  assert.deepEqual(
    packed.filter((f) => /^(src|test|node_modules)\//.test(f)),
    [],
  );
});

test('validate: the scenario folder as an argument, as --scenarios, or absolute; anything else is refused', async () => {
  const all = await cli('validate');
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^15 scenario\(s\) valid\.$/m);

  await mkdir(join(app, 'one'));
  await writeFile(join(app, 'one/cart.json'), toText(baseScenario()));
  const ways = [['one'], ['--scenarios', 'one'], [join(app, 'one')], ['--scenarios', join(app, 'one')]];
  for (const [args, run] of await inParallel(ways.map((args) => ['validate', ...args]))) {
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stdout, /^1 scenario\(s\) valid\.$/m, args.join(' '));
  }

  const broken = baseScenario();
  (broken.steps[0] as { next?: string }).next = 'secnod';
  await mkdir(join(app, 'broken'));
  await writeFile(join(app, 'broken/cart.json'), toText(broken));
  const bad = await cli('validate', 'broken');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^broken\/cart\.json:\d+:\d+ .*there is no step "secnod"/m);
  assert.match(bad.stdout, /1 problem\(s\) found/);

  const refusals: [string[], RegExp][] = [
    [['validate', 'nowhere'], /validate: the scenario folder "nowhere" does not exist/],
    [['validate', 'one', 'broken'], /validate: unexpected argument\(s\) "broken"/],
    [['validate', 'one', '--scenarios', 'broken'], /two scenario folders/],
    [['validate', '--dry-run'], /validate: Unknown option '--dry-run'/],
    [['run', '--bogus'], /run: Unknown option '--bogus'/],
    [['import'], /import: which file\?/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['validate', 'empty-folder'], /validate: no scenario files \(\*\.json\) in "empty-folder"/],
  ];
  await mkdir(join(app, 'empty-folder'));
  const runs = await inParallel(refusals.map(([args]) => args));
  refusals.forEach(([args, message], i) => {
    assert.equal(runs[i]![1].code, 1, args.join(' '));
    assert.match(runs[i]![1].stderr, message, args.join(' '));
  });
});

test('timeline and preview describe the sample scenarios', async () => {
  const timeline = await cli('timeline');
  assert.equal(timeline.code, 0, timeline.stderr);
  assert.match(timeline.stdout, /\(friend-welcome\)\n {2}day {2}0 \d\d:\d\d {2}welcome/);
  const preview = await cli('preview', 'scenarios');
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /```mermaid\nflowchart TD/);
});

test('schema writes the JSON Schema for editors into a new scenario folder', async () => {
  const run = await cli('schema', 'new-scenarios');
  assert.equal(run.code, 0, run.stderr);
  const schema = JSON.parse(await readFile(join(app, 'new-scenarios/scenario.schema.json'), 'utf8')) as {
    $schema?: string;
  };
  assert.match(schema.$schema ?? '', /json-schema\.org/);
});

test('run and import on a fresh folder keep their state in .data/pglite', async () => {
  assert.equal(existsSync(join(app, '.data')), false);
  const plan = await cli('run', '--run-mode=plan-only');
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /^# LINE step delivery: tick in run mode plan-only$/m);
  assert.ok((await stat(join(app, '.data/pglite'))).isDirectory());

  const csv = join(app, 'vip.csv');
  await writeFile(csv, `line_user_id\nU${'1'.repeat(32)}\nU${'2'.repeat(32)}\n`);
  const first = await cli('import', 'vip.csv', '--list', 'vip-2026');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /2 row\(s\): 2 new event\(s\), 0 already imported, 0 with errors/);
  const again = await cli('import', csv, '--list', 'vip-2026');
  assert.match(again.stdout, /2 row\(s\): 0 new event\(s\), 2 already imported/, 'the state persisted between runs');
});

test('demo: two simulated weeks of sample users', async () => {
  const demo = await cli('demo');
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stdout, /\d+ ticks in [\d.]+ s; \d+ LINE requests would have gone out/);
});

test('a Node.js older than 22 gets a sentence saying so, not a stack trace', async () => {
  assert.match(nodeVersionProblem('20.11.1')!, /needs Node\.js 22 or newer; this is Node\.js 20\.11\.1/);
  assert.equal(nodeVersionProblem('22.0.0'), undefined);
  assert.equal(nodeVersionProblem('24.21.0'), undefined);
  // The machine's own Node, when it is an old one: the installed command itself answers.
  const system = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
  const version = system ? execFileSync(system, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim() : '';
  if (!system || Number(version.split('.')[0]) >= 22) return;
  const bin = join(app, 'node_modules/line-step-delivery/bin/line-step-delivery.js');
  const old = await new Promise<Cli>((done) =>
    execFile(system, [bin, 'validate'], { cwd: app }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
  assert.equal(old.code, 1);
  assert.equal(old.stderr.trim(), nodeVersionProblem(version));
});
