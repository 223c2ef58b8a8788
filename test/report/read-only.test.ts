// Read-only means read-only: on a database set up and run by the previous release (its
// bundled action, from git history, as test/store/upgrade.test.ts makes one), report,
// inspect and a plan-only run of this release leave every table, every function and the
// migration record exactly as they were, and stop naming the files to apply and the command
// that applies them. Only `migrate` (or a tick that advances state) brings it forward.
import { test, afterAll, vi } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serverDatabase } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { openPostgres } from '../../src/store/postgres.js';
import { openStore, openStoreReadOnly, type Settings } from '../../src/commands/config.js';
import { reportCommand } from '../../src/commands/report.js';
import { inspectCommand } from '../../src/commands/inspect.js';
import { tickCommand } from '../../src/commands/tick-command.js';
import { migrateCommand, migrateText } from '../../src/commands/migrate.js';
import { KNOWN_MIGRATIONS, SchemaMismatch } from '../../src/store/schema-version.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { localToInstant, HOUR } from '../../src/time/zoned.js';

const PREVIOUS_RELEASE = 'f188888';
const T0 = localToInstant('Asia/Tokyo', 2026, 11, 23, 9, 0);
const U = (name: string) => `U${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function previousRelease(): string {
  const dir = resolve('node_modules/.cache', `lsd-release-${PREVIOUS_RELEASE}`);
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${PREVIOUS_RELEASE} dist scenarios | tar -x -C "$0"`, dir]);
  return dir;
}

/** One tick of the previous release's bundled action. */
async function previousTick(release: string, env: Record<string, string>): Promise<void> {
  const files = mkdtempSync(join(tmpdir(), 'lsd-read-only-'));
  writeFileSync(join(files, 'summary.md'), '');
  writeFileSync(join(files, 'output.txt'), '');
  const child = spawn(process.execPath, [join(release, 'dist/index.js')], {
    cwd: release,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: files,
      GITHUB_STEP_SUMMARY: join(files, 'summary.md'),
      GITHUB_OUTPUT: join(files, 'output.txt'),
      INPUT_MODE: 'run',
      INPUT_SCENARIOS: 'scenarios',
      ...env,
    },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  assert.equal(code, 0, out);
}

/** Every table's rows, every function's source and the migration record, as one fingerprint per object. */
async function fingerprint(db: SqlRpc): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const tables = await db.query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = 'public' order by 1`,
  );
  for (const { name } of tables) {
    const [row] = await db.query<{ h: string; n: string }>(
      `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h, count(*)::text as n from public.${name} t`,
    );
    out[`table ${name}`] = `${row!.n} rows ${row!.h}`;
  }
  const functions = await db.query<{ name: string; h: string }>(
    `select p.oid::regprocedure::text as name, md5(p.prosrc || coalesce(array_to_string(p.proconfig, ','), '')) as h
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`,
  );
  for (const f of functions) out[`function ${f.name}`] = f.h;
  return out;
}

test('report, inspect and plan-only leave a previous release database exactly as it was and name the files to apply; migrate applies them', async () => {
  const release = previousRelease();
  const db = await serverDatabase();
  cleanups.push(db.drop);
  const line = await new LineServer({ now: () => T0 }).start();
  cleanups.push(() => line.stop());
  const sql = await openPostgres(db.url);
  cleanups.push(() => sql.close());
  const env = { DATABASE_URL: db.url, LINE_CHANNEL_ACCESS_TOKEN: line.token, LINE_API_BASE_URL: line.url };
  await previousTick(release, { ...env, LINE_STEP_DELIVERY_NOW: String(T0 - HOUR) });
  await sql.query(
    `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, 'follow', '{}', to_timestamp($2 / 1000.0), 'test')`,
    [U('follow'), T0 - 10 * 60_000],
  );
  await previousTick(release, { ...env, LINE_STEP_DELIVERY_NOW: String(T0) });
  const before = await fingerprint(sql);
  assert.ok(Number(before['table enrollments']!.split(' ')[0]) > 0, 'the previous release enrolled someone');
  assert.match(before['table lsd_schema_migrations']!, /^2 rows/, "the previous release's two files");

  const settings: Settings = { DATABASE_URL: db.url };
  const names = (e: unknown) =>
    e instanceof SchemaMismatch &&
    /behind this release/.test(e.message) &&
    e.message.includes('20261125000003_schema_version.sql') &&
    e.message.includes(KNOWN_MIGRATIONS.at(-1)!) &&
    e.message.includes('line-step-delivery migrate') &&
    /Nothing was changed/.test(e.message);
  await assert.rejects(
    reportCommand({ openStore: () => openStoreReadOnly(settings), now: T0, statistics: null }),
    names,
  );
  await assert.rejects(inspectCommand({ openStore: () => openStoreReadOnly(settings), user: U('follow') }), names);
  await assert.rejects(
    tickCommand({ settings, dir: join(release, 'scenarios'), mode: 'plan-only', now: () => T0 }),
    names,
  );
  // The default of every opener is read-only: a caller that forgets to say is safe.
  await assert.rejects(openStore(settings), names);
  assert.deepEqual(await fingerprint(sql), before, 'nothing was written: tables, functions, migration record');

  const migrated = await migrateCommand({ settings });
  assert.deepEqual(migrated.applied, KNOWN_MIGRATIONS.slice(0, migrated.applied.length));
  assert.ok(migrated.applied.includes(KNOWN_MIGRATIONS.at(-1)!));
  assert.match(migrateText(migrated), /applied \d+ migration file\(s\)/);
  assert.deepEqual((await migrateCommand({ settings })).applied, [], 'a second migrate applies nothing');
  const report = await reportCommand({ openStore: () => openStoreReadOnly(settings), now: T0, statistics: null });
  assert.ok(report.reports.length > 0);
  // Now current, the read-only commands still write nothing.
  const current = await fingerprint(sql);
  await reportCommand({ openStore: () => openStoreReadOnly(settings), now: T0, statistics: null });
  await inspectCommand({ openStore: () => openStoreReadOnly(settings), user: U('follow') });
  await tickCommand({ settings, dir: join(release, 'scenarios'), mode: 'plan-only', now: () => T0 + HOUR });
  assert.deepEqual(await fingerprint(sql), current);
});

test('a database ahead of this release: migrate refuses before applying anything, and says which release to use', async () => {
  const db = await serverDatabase();
  cleanups.push(db.drop);
  const settings: Settings = { DATABASE_URL: db.url };
  await migrateCommand({ settings });
  const sql = await openPostgres(db.url);
  cleanups.push(() => sql.close());
  await sql.query(`insert into lsd_schema_migrations (name) values ('29991231000000_from_the_future.sql')`);
  const before = await fingerprint(sql);
  const ahead = (e: unknown) => e instanceof SchemaMismatch && /ahead of this release.*29991231000000/.test(e.message);
  await assert.rejects(migrateCommand({ settings }), ahead);
  await assert.rejects(openStoreReadOnly(settings), ahead);
  await assert.rejects(tickCommand({ settings, dir: 'scenarios', mode: 'send', now: () => T0 }), ahead);
  assert.deepEqual(await fingerprint(sql), before);
});

test('migrate through Supabase says to use supabase db push or DATABASE_URL', async () => {
  await assert.rejects(
    migrateCommand({ settings: { SUPABASE_URL: 'http://127.0.0.1:9', SUPABASE_SECRET_KEY: 'sb_secret_x' } }),
    /supabase db push.*DATABASE_URL/s,
  );
});

test('from the command line: report, inspect and run --run-mode=plan-only stop on a database behind; migrate applies the files; import sets up only a new database', async () => {
  const { main } = await import('../../src/cli/main.js');
  const { migrate } = await import('../../src/store/migrate.js');
  const { MIGRATIONS } = await import('../../src/store/migrations.js');
  const db = await serverDatabase();
  cleanups.push(db.drop);
  const sql = await openPostgres(db.url);
  cleanups.push(() => sql.close());
  // A database one release behind: all but this release's last three files.
  await migrate(sql, MIGRATIONS.slice(0, -3));
  const before = await fingerprint(sql);
  const saved = { url: process.env.DATABASE_URL, now: process.env.LINE_STEP_DELIVERY_NOW };
  process.env.DATABASE_URL = db.url;
  process.env.LINE_STEP_DELIVERY_NOW = String(T0);
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => (out.push(String(text)), true));
  try {
    const behind = (e: unknown) =>
      e instanceof SchemaMismatch && MIGRATIONS.slice(-3).every((m) => e.message.includes(m.name));
    await assert.rejects(main(['report']), behind);
    await assert.rejects(main(['inspect', U('nobody')]), behind);
    await assert.rejects(main(['run', 'scenarios', '--run-mode=plan-only']), behind);
    const csv = join(mkdtempSync(join(tmpdir(), 'lsd-import-')), 'list.csv');
    writeFileSync(csv, `line_user_id\n${U('vip')}\n`);
    await assert.rejects(main(['import', csv, '--list', 'vip']), behind, 'import does not move it forward either');
    assert.deepEqual(await fingerprint(sql), before);
    assert.equal(await main(['migrate']), 0);
    assert.match(out.join(''), new RegExp(`applied 3 migration file\\(s\\):\\n {2}${MIGRATIONS.at(-3)!.name}`));
    assert.equal(await main(['report']), 0);
    // A database with none of the tables yet: report says to set it up; import sets it up.
    const fresh = await serverDatabase();
    cleanups.push(fresh.drop);
    process.env.DATABASE_URL = fresh.url;
    await assert.rejects(
      main(['report']),
      /none of line-step-delivery's tables yet: set it up with `line-step-delivery migrate`/,
    );
    assert.equal(await main(['import', csv, '--list', 'vip']), 0);
    assert.match(out.join(''), /1 row\(s\): 1 new event\(s\)/);
  } finally {
    write.mockRestore();
    process.env.DATABASE_URL = saved.url;
    process.env.LINE_STEP_DELIVERY_NOW = saved.now;
    if (saved.url === undefined) delete process.env.DATABASE_URL;
    if (saved.now === undefined) delete process.env.LINE_STEP_DELIVERY_NOW;
  }
});
