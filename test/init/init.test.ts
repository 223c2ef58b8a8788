// init in a user's repository: the workflows with the action pinned, a scenario folder that
// validates, the checklist with the exact names; a second run leaves every file as it is,
// --force writes them again; an unknown sample lists the samples.
import { afterEach, beforeEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, initReport, sampleNames, WORKFLOWS } from '../../src/commands/init.js';
import { validateScenarios } from '../../src/commands/validate.js';
import { parseActionYml } from '../../scripts/action-docs.mjs';

let repo = '';
beforeEach(async () => {
  repo = await mkdtemp(join(tmpdir(), 'lsd-init-'));
});
afterEach(async () => {
  await rm(repo, { recursive: true, force: true });
});

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; repository: { url: string } };
const ownRepository = /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository.url)![1]!;

test("init writes the workflows pinned to this package's repository and version, and a scenario folder that validates", async () => {
  const outcome = await init({ cwd: repo });
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.left, []);
  assert.deepEqual(
    outcome.wrote.sort(),
    [
      ...WORKFLOWS.map((w) => `.github/workflows/${w}`),
      'scenarios/friend-welcome.json',
      'scenarios/scenario.schema.json',
    ].sort(),
  );
  const uses = `${ownRepository}@v${pkg.version}`;
  assert.equal(outcome.uses, uses);
  const inputs = new Set(parseActionYml(readFileSync('action.yml', 'utf8')).inputs.map((i) => i.name));
  for (const w of WORKFLOWS) {
    const text = await readFile(join(repo, '.github/workflows', w), 'utf8');
    assert.doesNotMatch(text, /OWNER\/line-step-delivery@v1|Copy this file/, w);
    const ours = [...text.matchAll(/^\s*-?\s*uses:\s*(\S+)/gm)]
      .map((m) => m[1])
      .filter((u) => !u!.startsWith('actions/'));
    assert.deepEqual(ours, [uses], `${w} names the action once, pinned`);
    assert.ok(inputs.has('mode'));
  }
  const check = await validateScenarios({ dir: 'scenarios', cwd: repo });
  assert.deepEqual(check.result.issues, []);
  assert.equal(check.result.scenarios.length, 1);
  assert.equal(check.schemaStale, false, 'the schema written is this version’s');
});

test('the checklist names every secret, variable and function secret, and the dispatcher setup call', async () => {
  const outcome = await init({ cwd: repo, uses: 'my-org/line-step-delivery@v2' });
  assert.ok(outcome.ok);
  const text = initReport(outcome);
  for (const name of [
    'LINE_CHANNEL_ACCESS_TOKEN',
    'SUPABASE_URL',
    'SUPABASE_SECRET_KEY',
    'DATABASE_URL',
    'CLICK_SIGNING_SECRET',
    'CLICK_BASE_URL',
    'LINE_CHANNEL_SECRET',
    'SHOP_EVENTS_SECRET',
    'GITHUB_DISPATCH_TOKEN',
    'supabase functions deploy line-webhook --no-verify-jwt',
    'line-step-delivery migrate',
    'line-step-delivery dispatcher setup --owner',
    '/functions/v1/line-webhook',
    'line-step-delivery doctor',
  ])
    assert.ok(text.includes(name), `the checklist names ${name}`);
  assert.match(text, /git clone --depth 1 --branch v2 https:\/\/github\.com\/my-org\/line-step-delivery\.git/);
  assert.match(text, /^wrote \.github\/workflows\/step-delivery\.yml$/m);
  const workflow = await readFile(join(repo, '.github/workflows/step-delivery.yml'), 'utf8');
  assert.match(workflow, /uses: my-org\/line-step-delivery@v2/);
});

test('a second init leaves every file as it is and says so; --force writes them again', async () => {
  assert.ok((await init({ cwd: repo })).ok);
  const mine = join(repo, 'scenarios/friend-welcome.json');
  await writeFile(mine, '{"edited": true}\n');
  const again = await init({ cwd: repo });
  assert.ok(again.ok);
  assert.deepEqual(again.wrote, []);
  assert.equal(again.left.length, WORKFLOWS.length + 2);
  assert.match(initReport(again), /^left {2}scenarios\/friend-welcome\.json \(it is there: --force overwrites it\)$/m);
  assert.equal(await readFile(mine, 'utf8'), '{"edited": true}\n', 'nothing already there is lost');
  const forced = await init({ cwd: repo, force: true });
  assert.ok(forced.ok);
  assert.equal(forced.wrote.length, WORKFLOWS.length + 2);
  assert.notEqual(await readFile(mine, 'utf8'), '{"edited": true}\n');
});

test('--sample picks another sample; an unknown one lists the samples and writes nothing', async () => {
  const samples = await sampleNames();
  assert.ok(samples.includes('cart-abandoned') && samples.includes('friend-welcome'));
  assert.ok(!samples.includes('scenario.schema'));
  const picked = await init({ cwd: repo, sample: 'cart-abandoned', dir: 'drip' });
  assert.ok(picked.ok);
  assert.ok(picked.wrote.includes('drip/cart-abandoned.json'));
  const empty = await mkdtemp(join(tmpdir(), 'lsd-init-'));
  try {
    const unknown = await init({ cwd: empty, sample: 'friend-welcom' });
    assert.equal(unknown.ok, false);
    assert.ok(
      !unknown.ok && unknown.error.startsWith('there is no sample "friend-welcom". The samples: after-purchase, '),
    );
    assert.ok(!unknown.ok && unknown.error.includes('friend-welcome'));
    assert.deepEqual(await readdir(empty), []);
    const bad = await init({ cwd: empty, uses: 'not a ref' });
    assert.ok(!bad.ok && /is not owner\/repo@ref/.test(bad.error));
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});
