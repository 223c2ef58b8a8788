// The forecast on the real server: known enrollments and entry rates, the messages of the
// next 30 days computed by hand; the quota from the loopback LINE server; a PR's change
// against the base's definitions; and nothing written.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverStore } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { baseScenario, toText } from '../support/scenarios.js';
import type { Scenario } from '../../src/scenario/schema.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { forecastCommand, previewForecast } from '../../src/commands/forecast.js';
import { forecastHtml } from '../../src/report/forecast-markdown.js';
import { reportCommand } from '../../src/commands/report.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { FORECAST_ARGS, runForecast } from '../../src/commands/forecast-cli.js';
import { parseCommandArgs } from '../../src/commands/command-line.js';
import { COMMANDS } from '../../src/cli/commands.js';

const DAY = 86_400_000;
const NOW = Date.parse('2027-03-01T00:00:00Z');
const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
const iso = (ms: number) => new Date(ms).toISOString();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

/** Three messages at 1, 10 and 40 days after entry, no send window: dates easy to check by hand. */
const drip = (over: Partial<Scenario> = {}): Scenario =>
  baseScenario({
    id: 'drip',
    timezone: 'UTC',
    entry: { trigger: { type: 'event', event: 'drip_started' } },
    steps: [1, 10, 40].map((days, i) => ({
      id: `s${i + 1}`,
      type: 'message' as const,
      wait: { after: { days }, from: 'entry' as const },
      messages: [{ type: 'text' as const, text: `day ${days}` }],
    })),
    ...over,
  });

async function enrollment(
  db: SqlRpc,
  o: { user: number; scenario?: string; step: string; entered: number; previous?: number; status?: string },
) {
  await db.query(
    `insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, ended_at, due_at, scenario_hash, shard_key)
     values ($1, $2, $3, $4, $5, $6, case when $3 <> 'active' then $5::timestamptz end, case when $3 = 'active' then $5::timestamptz end, 'h', 0)`,
    [o.scenario ?? 'drip', U(o.user), o.status ?? 'active', o.step, iso(o.entered), iso(o.previous ?? o.entered)],
  );
}

/** A database with three users inside and six entries in the last 30 days (one more before). */
async function knownDatabase(): Promise<{ url: string; db: SqlRpc }> {
  const s = await serverStore();
  cleanups.push(s.drop);
  // Inside: s2 at entry+10 d = now+8 d (in), s3 at now+38 d (out): 1 message.
  await enrollment(s.db, { user: 1, step: 's2', entered: NOW - 2 * DAY, previous: NOW - DAY });
  // s3 at entry+40 d = now+20 d: 1.
  await enrollment(s.db, { user: 2, step: 's3', entered: NOW - 20 * DAY, previous: NOW - 10 * DAY });
  // s1 at now+0.5 d, s2 at now+9.5 d, s3 at now+39.5 d (out): 2.
  await enrollment(s.db, { user: 3, step: 's1', entered: NOW - DAY / 2 });
  // Ended: no more messages, but they entered in the last 30 days.
  for (const user of [4, 5, 6])
    await enrollment(s.db, { user, step: 's3', entered: NOW - (5 + user) * DAY, status: 'exited' });
  await enrollment(s.db, { user: 7, step: 's3', entered: NOW - 40 * DAY, status: 'finished' });
  return { url: s.url, db: s.db };
}

async function scenarioDir(...scenarios: Scenario[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-forecast-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const s of scenarios) await writeFile(join(dir, `${s.id}.json`), toText(s));
  return dir;
}

async function fingerprint(db: SqlRpc): Promise<string> {
  const rows = await db.query<{ t: string }>(
    `select string_agg(md5(x::text), ',' order by md5(x::text)) as t from (
       select e::text as x from enrollments e union all select r::text from runs r union all select m::text from lsd_schema_migrations m) z`,
  );
  return rows[0]!.t;
}

test('each scenario: messages of the next 30 days from who is inside (by hand: 4) and new entrants at the last 30 days’ rate (6 entries: 9.8)', async () => {
  const { url, db } = await knownDatabase();
  const before = await fingerprint(db);
  const dir = await scenarioDir(drip(), drip({ id: 'paused-one', status: 'paused' }));
  const { forecast, markdown } = await forecastCommand({ settings: { DATABASE_URL: url }, dir, now: NOW });
  const row = forecast.scenarios.find((s) => s.id === 'drip')!;
  assert.equal(row.inside, 3);
  assert.equal(row.fromInside, 4);
  assert.equal(row.entriesLast30Days, 6);
  // 0.2 a day entering uniformly over 30 days: s1 (day 1) reaches 29/30 of them, s2 (day 10) 20/30,
  // s3 (day 40) none: 0.2 x (29 + 20) = 9.8, rounded.
  assert.equal(row.fromNew, 10);
  assert.equal(row.total, 14);
  assert.equal(forecast.scenarios.find((s) => s.id === 'paused-one')!.total, 0);
  assert.equal(forecast.total, 14);
  assert.match(markdown, /next 30 days/);
  assert.match(markdown, /\| drip \| 3 \| 4 \| 0\.2 \| 10 \| 14 \|/);
  assert.match(markdown, /\| paused-one \(paused: nothing sent\) \|/);
  assert.match(markdown, /LINE quota: not asked/);
  assert.ok(!markdown.includes(U(1)));
  assert.match(forecastHtml(forecast), /<td>drip<\/td><td>3<\/td><td>4<\/td>/);
  assert.equal(await fingerprint(db), before, 'the forecast writes nothing');
});

test('against the channel’s quota: LINE’s quota and consumption through the SDK', async () => {
  const { url } = await knownDatabase();
  const line = await new LineServer({ monthlyLimit: 20 }).start();
  cleanups.push(() => line.stop());
  line.usage = 12;
  const dir = await scenarioDir(drip());
  const settings = { DATABASE_URL: url, LINE_CHANNEL_ACCESS_TOKEN: 'test-token', LINE_API_BASE_URL: line.url };
  const { forecast, markdown } = await forecastCommand({ settings, dir, now: NOW });
  assert.deepEqual(forecast.quota, { limit: 20, used: 12 });
  assert.match(
    markdown,
    /LINE quota: 12 of 20 counted this month; the next 30 days: 14 \(70% of a month's 20\), ⚠️ more than the 8 left this month/,
  );
  const refused = await forecastCommand({
    settings: { ...settings, LINE_CHANNEL_ACCESS_TOKEN: 'wrong' },
    dir,
    now: NOW,
  });
  assert.match(refused.markdown, /LINE quota: could not be read \(LINE refused the channel access token \(401\)/);
});

test('a pull request: what the change adds or removes, the base’s definitions against the head’s, same users', async () => {
  const { url } = await knownDatabase();
  const repo = await mkdtemp(join(tmpdir(), 'lsd-forecast-git-'));
  cleanups.push(() => rm(repo, { recursive: true, force: true }));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
  await mkdir(join(repo, 'scenarios'));
  await writeFile(join(repo, 'scenarios', 'drip.json'), toText(drip()));
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'base');
  // The change: the third message at day 20 instead of 40, so it falls inside the window.
  const changed = drip();
  (changed.steps[2] as { wait: unknown }).wait = { after: { days: 20 }, from: 'entry' };
  await writeFile(join(repo, 'scenarios', 'drip.json'), toText(changed));
  const { changes, markdown } = await forecastCommand({
    settings: { DATABASE_URL: url },
    dir: 'scenarios',
    cwd: repo,
    baseRef: 'HEAD',
    now: NOW,
  });
  // Inside: user 1's s3 at now+18 d (+1), user 3's at now+19.5 d (+1); user 2's s3 moves from
  // now+20 d to now-10 d: due, still sent (0). New entrants: s3 reaches 10/30 of them: 0.2 x 10 = +2.
  assert.deepEqual(changes, [{ id: 'drip', base: 14, head: 18, change: 4 }]);
  assert.match(markdown, /### Messages in the next 30 days: \+4 with this change/);
  assert.match(markdown, /\| drip \| 14 \| 18 \| \+4 \|/);
});

test('the report: the forecast of the definitions in force and the database’s size, writing nothing', async () => {
  const s = await serverStore();
  cleanups.push(s.drop);
  const compiled = compileScenario(drip());
  await s.store.registerScenarios(NOW - 60 * DAY, [
    { id: compiled.id, hash: compiled.hash, version: 1, definition: compiled.scenario },
  ]);
  await enrollment(s.db, { user: 3, step: 's1', entered: NOW - DAY / 2 });
  const before = await fingerprint(s.db);
  const outcome = await reportCommand({ openStore: () => s.open(), now: NOW });
  // s1 and s2 for user 3 (2); one entry in 30 days: 1/30 a day x (29 + 20) = 1.6, rounded 2.
  assert.match(outcome.markdown, /## Forecast: messages LINE will count in the next 30 days/);
  assert.match(outcome.markdown, /\| drip \| 1 \| 2 \| 0\.0 \| 2 \| 4 \|/);
  assert.match(outcome.markdown, /## Database\n\nDatabase: [\d.]+ MB of 500\.0 MB \(Free plan, \d+%\)/);
  assert.match(outcome.html, /<h2>Forecast: messages LINE will count in the next 30 days<\/h2>/);
  assert.match(outcome.html, /<h2>Database<\/h2>/);
  assert.equal(await fingerprint(s.db), before);
  const [samples] = await s.db.query<{ n: number }>('select count(*)::int as n from lsd_storage_samples');
  assert.equal(samples!.n, 0, 'the report records no size sample');
});

test('the CLI: forecast [DIR] prints the table; a scenario with a problem exits 1 naming the file and line', async () => {
  const { url } = await knownDatabase();
  const dir = await scenarioDir(drip());
  const saved = { db: process.env.DATABASE_URL, now: process.env.LINE_STEP_DELIVERY_NOW };
  process.env.DATABASE_URL = url;
  process.env.LINE_STEP_DELIVERY_NOW = String(NOW);
  try {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    const parsed = parseCommandArgs('forecast', FORECAST_ARGS, [dir]);
    assert.equal(await runForecast(parsed, dir, undefined, io), 0);
    assert.match(out.join(''), /\| drip \| 3 \| 4 \| 0\.2 \| 10 \| 14 \|/);
    assert.ok(COMMANDS.forecast, 'the CLI has the command');
    await writeFile(join(dir, 'broken.json'), '{\n  "id": "broken",\n  "version": 1\n}\n');
    assert.equal(await runForecast(parsed, dir, undefined, io), 1);
    assert.match(err.join(''), /broken\.json:\d+/);
  } finally {
    for (const [k, v] of [
      ['DATABASE_URL', saved.db],
      ['LINE_STEP_DELIVERY_NOW', saved.now],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});

test('the PR preview: the forecast section when the check can read the database, nothing without one, a note when it fails', async () => {
  const { url } = await knownDatabase();
  const dir = await scenarioDir(drip());
  assert.equal(await previewForecast({ settings: {}, dir, now: NOW }), '');
  const section = await previewForecast({ settings: { DATABASE_URL: url }, dir, now: NOW });
  assert.match(section, /## Forecast: messages LINE will count in the next 30 days/);
  assert.match(section, /\| drip \| 3 \| 4 \| 0\.2 \| 10 \| 14 \|/);
  const broken = 'postgres://nobody:secret@127.0.0.1:1/nothing';
  const note = await previewForecast({ settings: { DATABASE_URL: broken }, dir, now: NOW });
  assert.match(note, /The forecast of messages could not be made: /);
  assert.ok(!note.includes('secret'), note);
});
