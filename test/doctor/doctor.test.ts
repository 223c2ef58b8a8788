// doctor, link by link: everything right is all ok (exit 0); each way a setup goes wrong is
// one FIX line that names the fix, and the output never carries a token or a user id.
import { afterEach, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { doctor, formatChecks, type Check } from '../../src/commands/doctor.js';
import { serverDatabase } from '../support/db.js';
import { openPostgres } from '../../src/store/postgres.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { healthySetup, type DoctorFixture } from './fixture.js';

let fx: DoctorFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const run = (f: DoctorFixture, extra: Partial<Parameters<typeof doctor>[0]> = {}) =>
  doctor({ settings: f.settings, source: 'env', dir: f.dir, ...extra });

const fixes = (checks: Check[]) => checks.filter((c) => c.status === 'fix');
const one = (checks: Check[], link: string, name: string) => {
  const c = checks.find((x) => x.link === link && x.name === name);
  assert.ok(c, `no check ${link}/${name} in:\n${formatChecks(checks)}`);
  return c;
};

function assertPublic(text: string, f: DoctorFixture) {
  assert.ok(!text.includes(f.line.token), 'the token is not printed');
  assert.doesNotMatch(text, /U[0-9a-f]{32}/, 'no LINE user id is printed');
  assert.ok(!text.includes(f.db.url), 'the connection string is not printed');
}

test('a setup done right: every link ok or a note, nothing to fix, and the channel named', async () => {
  fx = await healthySetup();
  const out = await run(fx);
  const text = formatChecks(out.checks);
  assert.deepEqual(fixes(out.checks), [], text);
  assert.equal(out.broken, false);
  assert.match(one(out.checks, 'LINE', 'channel').text, /"Loopback Shop" \(@loopback\)/);
  assert.equal(one(out.checks, 'LINE', 'webhook test').status, 'ok');
  assert.deepEqual(fx.receiver.hits, [200], "LINE's test reached the function, signed with the channel secret");
  assert.equal(one(out.checks, 'database', 'migrations').status, 'ok');
  assert.equal(one(out.checks, 'database', 'RLS').status, 'ok');
  assert.equal(one(out.checks, 'database', 'functions').status, 'ok');
  assert.equal(one(out.checks, 'scenarios', 'valid').status, 'ok');
  assert.equal(out.checks.filter((c) => c.status === 'skip').length, 0, text);
  assertPublic(text, fx);
});

test('a secret under a near name (SUPABASE_SERVICE_KEY): doctor names the one to set', async () => {
  fx = await healthySetup();
  const settings = {
    SUPABASE_URL: 'https://abc.supabase.co',
    LINE_CHANNEL_ACCESS_TOKEN: fx.line.token,
    LINE_API_BASE_URL: fx.line.url,
  };
  const out = await doctor({ settings, source: 'env', env: { SUPABASE_SERVICE_KEY: 'sb_secret_x' }, dir: fx.dir });
  assert.equal(out.broken, true);
  assert.match(
    one(out.checks, 'settings', 'SUPABASE_SECRET_KEY').text,
    /SUPABASE_SECRET_KEY is not set, but SUPABASE_SERVICE_KEY is: .*rename SUPABASE_SERVICE_KEY to SUPABASE_SECRET_KEY/,
  );
  assert.match(one(out.checks, 'database', 'reachable').text, /^not checked: /);
  // In the action, the secret the workflow reads is named.
  const action = await doctor({ settings, source: 'action', dir: fx.dir });
  assert.match(
    one(action.checks, 'settings', 'SUPABASE_SECRET_KEY').text,
    /repository secret named exactly SUPABASE_SECRET_KEY/,
  );
});

test('the publishable key in SUPABASE_SECRET_KEY is a fix that says which key to use', async () => {
  fx = await healthySetup();
  const out = await run(fx, { settings: { ...fx.settings, SUPABASE_SECRET_KEY: 'sb_publishable_abc' } });
  assert.match(one(out.checks, 'settings', 'SUPABASE_SECRET_KEY').text, /publishable key.*sb_secret_/);
  assert.ok(!formatChecks(out.checks).includes('sb_publishable_abc'));
});

test('migrations behind: the files to apply are named, and doctor applies none', async () => {
  fx = await healthySetup();
  const behind = await serverDatabase();
  const db = await openPostgres(behind.url, { max: 1 });
  try {
    await migrate(db, MIGRATIONS.slice(0, -2));
    const out = await run(fx, { settings: { ...fx.settings, DATABASE_URL: behind.url } });
    const missing = MIGRATIONS.slice(-2).map((m) => m.name);
    const check = one(out.checks, 'database', 'migrations');
    assert.equal(check.status, 'fix');
    assert.match(check.text, new RegExp(`2 file\\(s\\) not applied: ${missing.join(', ')}\\. Apply them`));
    assert.equal(out.broken, true);
    const applied = await db.query<{ name: string }>('select name from lsd_schema_migrations');
    assert.equal(applied.length, MIGRATIONS.length - 2, 'doctor migrated nothing');
    // A database never migrated: every file, first to last.
    const empty = await serverDatabase();
    try {
      const fresh = await run(fx, { settings: { ...fx.settings, DATABASE_URL: empty.url } });
      assert.match(
        one(fresh.checks, 'database', 'migrations').text,
        new RegExp(
          `no record of the engine's migrations: a new database needs all ${MIGRATIONS.length} files \\(from ${MIGRATIONS[0]!.name} to ${MIGRATIONS.at(-1)!.name}\\)`,
        ),
      );
    } finally {
      await empty.drop();
    }
  } finally {
    await db.close();
    await behind.drop();
  }
});

test('an unreachable database is one fix, and the links that read it are not checked', async () => {
  fx = await healthySetup();
  const url = fx.db.url.replace(/\/[^/]*$/, '/lsd_no_such_database');
  const out = await run(fx, { settings: { ...fx.settings, DATABASE_URL: url } });
  assert.match(one(out.checks, 'database', 'reachable').text, /does not exist/);
  assert.match(one(out.checks, 'events', 'sources').text, /^not checked: /);
  assert.match(one(out.checks, 'scenarios', 'in force').text, /^not checked: /);
});

test("a token of another channel: its name is shown, and a fix when the team's channel is given", async () => {
  fx = await healthySetup();
  fx.line.botInfo = { ...fx.line.botInfo, displayName: 'Staff Test Channel', basicId: '@staff' };
  const shown = await run(fx);
  assert.match(one(shown.checks, 'LINE', 'channel').text, /"Staff Test Channel" \(@staff\)/);
  const out = await run(fx, { expectChannel: 'Loopback Shop' });
  const check = one(out.checks, 'LINE', 'channel');
  assert.equal(check.status, 'fix');
  assert.match(check.text, /the token is of "Staff Test Channel" \(@staff\), not of "Loopback Shop"/);
  assert.equal((await run(fx, { expectChannel: '@staff' })).broken, false);
});

test('a refused token is a fix naming the setting, never the token', async () => {
  fx = await healthySetup();
  const out = await run(fx, { settings: { ...fx.settings, LINE_CHANNEL_ACCESS_TOKEN: 'not-the-token' } });
  assert.match(
    one(out.checks, 'LINE', 'token').text,
    /refused the channel access token \(401\).*LINE_CHANNEL_ACCESS_TOKEN/,
  );
  assert.ok(!formatChecks(out.checks).includes('not-the-token'));
});

test('no webhook set, a webhook elsewhere, a webhook turned off: each a fix with where to set it', async () => {
  fx = await healthySetup();
  const want = `${fx.receiver.origin}/functions/v1/line-webhook`;
  fx.line.webhook = undefined;
  let out = await run(fx);
  assert.match(one(out.checks, 'LINE', 'webhook').text, new RegExp(`no webhook URL is set: .*Webhook URL ${want}`));
  assert.equal(out.broken, true);
  fx.line.webhook = { endpoint: 'https://other.example.com/hook', active: true };
  fx.line.webhookTestAnswer = { success: true, statusCode: 200, reason: 'OK', detail: '200' };
  out = await run(fx);
  assert.match(
    one(out.checks, 'LINE', 'webhook').text,
    /points to https:\/\/other\.example\.com\/hook, not to your line-webhook function/,
  );
  fx.line.webhook = { endpoint: want, active: false };
  out = await run(fx);
  assert.match(one(out.checks, 'LINE', 'webhook on').text, /turned off.*turn Use webhook on/);
});

test("LINE's webhook test failing (the function refuses the signature): a fix naming the function secret", async () => {
  fx = await healthySetup();
  fx.line.webhookSecret = 'another-channel-secret';
  const out = await run(fx);
  const check = one(out.checks, 'LINE', 'webhook test');
  assert.equal(check.status, 'fix');
  assert.match(check.text, /failed \(status 401.*LINE_CHANNEL_SECRET/);
  assert.deepEqual(fx.receiver.hits, [401]);
  fx.line.webhookTestAnswer = {
    success: false,
    statusCode: 0,
    reason: 'COULD_NOT_CONNECT',
    detail: 'connection failed',
  };
  assert.match(one((await run(fx)).checks, 'LINE', 'webhook test').text, /status 0, COULD_NOT_CONNECT/);
});

test('an alias a scenario names that the channel lacks: a fix at its file and line', async () => {
  fx = await healthySetup(['interest-survey.json']);
  fx.line.richMenuIds.add(`richmenu-${'a'.repeat(32)}`);
  for (const alias of ['menu-skincare', 'menu-haircare']) fx.line.aliases.set(alias, `richmenu-${'a'.repeat(32)}`);
  const out = await run(fx);
  const check = one(out.checks, 'scenarios', 'rich menus on LINE');
  assert.equal(check.status, 'fix');
  const text = await readFile(join(fx.dir, 'interest-survey.json'), 'utf8');
  const lineNo = text.split('\n').findIndex((l) => l.includes('"menu-sale"')) + 1;
  assert.match(check.text, new RegExp(`interest-survey\\.json:${lineNo}:\\d+ .*no rich menu alias "menu-sale"`));
  fx.line.aliases.set('menu-sale', `richmenu-${'a'.repeat(32)}`);
  assert.equal(one((await run(fx)).checks, 'scenarios', 'rich menus on LINE').status, 'ok');
});

test('no token: the LINE checks say "not checked" with why, never ok', async () => {
  fx = await healthySetup();
  const out = await run(fx, { settings: { ...fx.settings, LINE_CHANNEL_ACCESS_TOKEN: undefined } });
  assert.match(one(out.checks, 'LINE', 'channel').text, /^not checked: no LINE_CHANNEL_ACCESS_TOKEN/);
  assert.match(one(out.checks, 'scenarios', 'rich menus on LINE').text, /^not checked: /);
  assert.ok(!out.checks.some((c) => c.link === 'LINE' && c.status === 'ok'));
});

test('an invalid scenario and a missing one are fixes; events set aside are counted by reason, never by id', async () => {
  fx = await healthySetup(['friend-welcome.json', 'cart-abandoned.json']);
  const now = Date.now();
  // A tick registered both; then the cart file is deleted and the welcome file broken.
  await fx.db.db.exec(`insert into scenarios (scenario_id, current_hash, version, activated_at) values
    ('cart-abandoned', 'x', 1, now()), ('friend-welcome', 'y', 1, now())`);
  await fx.db.db.exec(`insert into events (line_user_id, type, source, status, status_reason) values
    ('U${'1'.repeat(32)}', 'follow', 'line-webhook', 'done', null),
    ('U${'2'.repeat(32)}', 'purchased', 'shop-events', 'set_aside', 'occurred_at is more than a day after now: check the clock, the time zone or the unit'),
    ('U${'3'.repeat(32)}', 'purchased', 'shop-events', 'set_aside', 'occurred_at is more than a day after now: check the clock, the time zone or the unit')`);
  const { unlink } = await import('node:fs/promises');
  await unlink(join(fx.dir, 'cart-abandoned.json'));
  await writeFile(join(fx.dir, 'friend-welcome.json'), '{"id": "friend-welcome", "steps": []}');
  const out = await run(fx, { now });
  const text = formatChecks(out.checks);
  assert.match(one(out.checks, 'scenarios', 'missing').text, /file is gone.*: cart-abandoned\. Put the file back/);
  assert.equal(one(out.checks, 'scenarios', 'valid').status, 'fix');
  assert.match(
    one(out.checks, 'events', 'set aside (last day)').text,
    /2 event\(s\).*2 × occurred_at is more than a day after now/,
  );
  assert.match(one(out.checks, 'events', 'LINE webhook').text, /^last event \d+ s ago/);
  assertPublic(text, fx);
});

/** pg_cron's own tables, as a stand-in in this test database (the real extension lives in the server's postgres database). */
async function cronStandIn(f: DoctorFixture) {
  await f.db.db.exec(`create schema cron;
    create table cron.job (jobid bigint primary key, schedule text, command text, jobname text, active boolean);
    create table cron.job_run_details (runid bigint primary key, jobid bigint, status text, return_message text,
      start_time timestamptz, end_time timestamptz);`);
}

const setUpDispatcher = (f: DoctorFixture) =>
  f.db.db.call('lsd_dispatcher_setup', { owner: 'my-shop', repo: 'line-scenarios', workflow: 'step-delivery.yml' });

test('pg_cron off with the dispatcher set up: a fix saying how to enable it; never set up: a note', async () => {
  fx = await healthySetup();
  const before = await run(fx);
  assert.equal(one(before.checks, 'dispatcher', 'set up').status, 'note');
  assert.match(
    one(before.checks, 'dispatcher', 'set up').text,
    /not set up: ticks start only on the workflow's schedule/,
  );
  await setUpDispatcher(fx);
  const out = await run(fx);
  const check = one(out.checks, 'dispatcher', 'pg_cron');
  assert.equal(check.status, 'fix');
  assert.match(check.text, /pg_cron is not enabled in this database.*Database → Extensions/);
  assert.equal(out.broken, true);
});

test('the pg_cron job: missing, switched off, failing, or not deciding are fixes; running is ok', async () => {
  fx = await healthySetup();
  await setUpDispatcher(fx);
  await cronStandIn(fx);
  assert.match(
    one((await run(fx)).checks, 'dispatcher', 'pg_cron job').text,
    /no pg_cron job named line-step-delivery-dispatch/,
  );
  await fx.db.db.exec(`insert into cron.job values (7, '* * * * *', 'select 1', 'line-step-delivery-dispatch', false)`);
  assert.match(
    one((await run(fx)).checks, 'dispatcher', 'pg_cron job').text,
    /switched off: select cron\.alter_job\(7, active := true\)/,
  );
  await fx.db.db.exec(`update cron.job set active = true;
    insert into cron.job_run_details values (1, 7, 'failed', 'ERROR: function "x" does not exist', now(), now())`);
  let out = await run(fx);
  assert.equal(one(out.checks, 'dispatcher', 'pg_cron job').status, 'ok');
  assert.match(one(out.checks, 'dispatcher', 'last job run').text, /failed .*function "…" does not exist/);
  assert.match(one(out.checks, 'dispatcher', 'running').text, /never decided/);
  // The job ran and decided a minute ago: running.
  await fx.db.db.exec(`update cron.job_run_details set status = 'succeeded';
    update lsd_dispatcher_settings set last_decided_at = now() - interval '1 minute'`);
  out = await run(fx);
  assert.deepEqual(
    out.checks.filter((c) => c.link === 'dispatcher').map((c) => [c.name, c.status]),
    [
      ['set up', 'ok'],
      ['pg_cron job', 'ok'],
      ['running', 'ok'],
      ['last starts', 'ok'],
      ['lateness (last day)', 'ok'],
    ],
    formatChecks(out.checks),
  );
});

test("through Supabase's HTTP API: the secret key works; a key Supabase refuses is a fix that names the setting, never the key", async () => {
  fx = await healthySetup();
  const { PostgrestStandIn } = await import('../support/postgrest.js');
  const api = await new PostgrestStandIn(fx.db.url).start();
  try {
    fx.line.webhook = { endpoint: `${new URL(api.url).origin}/functions/v1/line-webhook`, active: true };
    fx.line.webhookTestAnswer = { success: true, statusCode: 200, reason: 'OK', detail: '200' };
    const settings = {
      SUPABASE_URL: api.url,
      SUPABASE_SECRET_KEY: api.key,
      LINE_CHANNEL_ACCESS_TOKEN: fx.line.token,
      LINE_API_BASE_URL: fx.line.url,
    };
    const out = await doctor({ settings, source: 'env', dir: fx.dir });
    assert.deepEqual(fixes(out.checks), [], formatChecks(out.checks));
    assert.match(one(out.checks, 'database', 'reachable').text, /^Supabase \(/);
    assert.equal(one(out.checks, 'database', 'functions').status, 'ok');
    const refused = await doctor({
      settings: { ...settings, SUPABASE_SECRET_KEY: 'sb_secret_wrong' },
      source: 'env',
      dir: fx.dir,
    });
    const check = one(refused.checks, 'database', 'reachable');
    assert.equal(check.status, 'fix');
    assert.match(check.text, /Supabase refused the key .*SUPABASE_SECRET_KEY/);
    assert.ok(!formatChecks(refused.checks).includes('sb_secret_wrong'));
  } finally {
    await api.stop();
  }
});

test("a role that may not execute the engine's functions: reached, and the functions' link is the fix", async () => {
  fx = await healthySetup();
  const role = `lsd_reader_${Date.now().toString(36)}`;
  await fx.db.db.exec(`create role ${role} login`);
  try {
    const url = fx.db.url.replace('postgres://postgres@', `postgres://${role}@`);
    const out = await run(fx, { settings: { ...fx.settings, DATABASE_URL: url } });
    assert.equal(one(out.checks, 'database', 'reachable').status, 'ok');
    const check = one(out.checks, 'database', 'functions');
    assert.equal(check.status, 'fix');
    assert.match(check.text, /may not execute the engine's functions .*use the secret key/);
  } finally {
    await fx.db.db.exec(`drop role ${role}`);
  }
});
