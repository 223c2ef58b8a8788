// Upgrades never leave a database behind: a database set up and run by the previous
// release (its bundled action, taken from git history at the commit it was released
// from), with users in the middle of scenarios and a batch left uncertain, is brought
// forward by this release's migrations and ticks on: nobody loses their place, nobody
// gets a step twice. Between the two, a release that does not migrate by itself
// (Supabase's HTTP API) refuses the old database and names the files to apply.
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serverDatabase } from '../support/db.js';
import { LineServer } from '../support/line-server.js';
import { openPostgres } from '../../src/store/postgres.js';
import { Store } from '../../src/store/store.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { SchemaMismatch } from '../../src/store/schema-version.js';
import { localToInstant, HOUR, DAY, MINUTE } from '../../src/time/zoned.js';

/** The commit of the previous release (before migrations became append-only). */
const PREVIOUS_RELEASE = 'f188888';

const T0 = localToInstant('Asia/Tokyo', 2026, 11, 23, 9, 0);
const at = (day: number, hour: number, minute = 0) => T0 + day * DAY + (hour - 9) * HOUR + minute * MINUTE;
const U = (name: string) => `U${Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32)}`;

const EVENTS = [
  { at: at(0, 10), user: 'follow', type: 'follow' },
  { at: at(0, 12), user: 'cart', type: 'cart_abandoned', properties: { productName: '白いスニーカー', total: 5000 } },
  { at: at(1, 8), user: 'cart', type: 'purchased', properties: { orderId: 'A-1' } },
  {
    at: at(0, 12),
    user: 'salon',
    type: 'reservation_made',
    properties: { reservationAt: new Date(at(3, 15)).toISOString(), reservationLabel: '11/26 15:00' },
  },
  { at: at(0, 14), user: 'ship', type: 'shipped', properties: { deliveryDate: '11/25', trackingNumber: 'T-1' } },
  { at: at(0, 16), user: 'trial', type: 'trial_purchased' },
  { at: at(0, 10), user: 'leaver', type: 'follow' },
  { at: at(2, 12), user: 'leaver', type: 'unfollow' },
];
/** What each user gets over the week under the previous release's samples. */
const EXPECTED: Record<string, string[]> = {
  follow: [
    'friend_welcome__welcome',
    'friend_welcome__day1_campaign',
    'friend_welcome__day5_reviews',
    'friend_welcome__coupon_*',
  ],
  cart: ['cart_abandoned__reminder', 'after_purchase__thanks', 'after_purchase__how_to_use'],
  salon: ['reservation__thanks', 'reservation__reminder', 'reservation__follow_up'],
  ship: ['after_shipment__shipped_notice', 'after_shipment__first_use'],
  trial: ['trial_purchase__how_to_use', 'trial_purchase__regular_coupon'],
  leaver: ['friend_welcome__welcome', 'friend_welcome__day1_campaign'],
};
/** The previous release runs the first two days and six hours; this one from then on. */
const UPGRADE_AT = at(2, 15) + 1;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The previous release's tree (its dist/ and sample scenarios), from git history. */
function previousRelease(): string {
  // Inside node_modules, so the old bundle's external import of PGlite resolves as it did.
  const dir = resolve('node_modules/.cache', `lsd-release-${PREVIOUS_RELEASE}`);
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('sh', ['-c', `git archive ${PREVIOUS_RELEASE} dist scenarios | tar -x -C "$0"`, dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    throw new Error(
      `the previous release ${PREVIOUS_RELEASE} must be in the clone's history (git fetch --unshallow): ${String(e)}`,
      { cause: e },
    );
  }
  return dir;
}

async function runBundle(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  const files = mkdtempSync(join(tmpdir(), 'lsd-upgrade-'));
  writeFileSync(join(files, 'summary.md'), '');
  writeFileSync(join(files, 'output.txt'), '');
  const child = spawn(process.execPath, [script], {
    cwd,
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
  return { code, out: out + readFileSync(join(files, 'summary.md'), 'utf8') };
}

test('a database set up and run by the previous release is brought forward: nobody loses their place or gets a step twice', async () => {
  const release = previousRelease();
  const db = await serverDatabase();
  cleanups.push(db.drop);
  let now = T0;
  const line = await new LineServer({ now: () => now }).start();
  cleanups.push(() => line.stop());
  const sql = await openPostgres(db.url);
  cleanups.push(() => sql.close());
  const env = () => ({
    DATABASE_URL: db.url,
    LINE_CHANNEL_ACCESS_TOKEN: line.token,
    LINE_API_BASE_URL: line.url,
    LINE_STEP_DELIVERY_NOW: String(now),
  });
  const pending = [...EVENTS].sort((a, b) => a.at - b.at);
  let upgraded = false;
  for (; now <= T0 + 8 * DAY; now += 6 * HOUR) {
    const upgrade = !upgraded && now >= UPGRADE_AT;
    if (upgrade) {
      // This release over Supabase's HTTP API does not migrate: it must refuse the old schema.
      const http = new Store(await openPostgres(db.url));
      await assert.rejects(
        runTick({ store: http, sender: new NoLineSender(), scenarios: [], now: () => now }),
        (e: unknown) => e instanceof SchemaMismatch && /behind/.test(e.message),
      );
      await http.close();
      line.faultsFor.clear();
      upgraded = true;
    }
    for (; pending.length && pending[0]!.at <= now; pending.shift()) {
      const e = pending[0]!;
      // Inserted as a shop or hook does: the contract of the previous release.
      await sql.query(
        `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, $2, $3, to_timestamp($4 / 1000.0), 'upgrade-test')`,
        [U(e.user), e.type, JSON.stringify(e.properties ?? {}), e.at],
      );
    }
    // The previous release's last tick leaves the salon's reminder uncertain: LINE's
    // connection drops on every attempt, so it may or may not have been accepted.
    if (!upgraded && now + 6 * HOUR >= UPGRADE_AT) line.faultsFor.set(U('salon'), { kind: 'drop' });
    const run: { code: number; out: string } = upgraded
      ? await runBundle(resolve('dist/index.js'), release, env())
      : await runBundle(join(release, 'dist/index.js'), release, env());
    assert.equal(
      run.code,
      0,
      `${upgraded ? 'this' : 'the previous'} release's tick at ${new Date(now).toISOString()} failed:\n${run.out}`,
    );
  }
  const applied = await sql.query<{ name: string }>('select name from lsd_schema_migrations order by name');
  assert.ok(
    applied.length > 2 && applied.some((r) => r.name === '20261125000003_schema_version.sql'),
    'this release applied its migrations',
  );
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const got = line.received
      .filter((r) => r.to === U(name))
      .sort((a, b) => a.at - b.at)
      .map((r) => r.aggregationUnits?.[0] ?? '?');
    assert.equal(got.length, expected.length, `${name}: ${got.join(', ')}`);
    expected.forEach((unit, i) =>
      unit.endsWith('*')
        ? assert.ok(got[i]!.startsWith(unit.slice(0, -1)), `${name}[${i}]: ${got[i]}`)
        : assert.equal(got[i], unit, `${name}[${i}]`),
    );
  }
  const pairs = line.received.map((r) => `${r.to} ${r.aggregationUnits?.[0]}`);
  assert.equal(new Set(pairs).size, pairs.length, 'no user got a step twice');
  const reminder = line.received.find(
    (r) => r.to === U('salon') && r.aggregationUnits?.[0] === 'reservation__reminder',
  )!;
  assert.ok(reminder.at >= UPGRADE_AT, 'the reminder left uncertain by the previous release was sent by this one');
  assert.equal(
    new Set(
      line.requests
        .filter(
          (r) =>
            r.path.endsWith('/push') &&
            r.retryKey &&
            line.received.some(
              (x) =>
                x.retryKey === r.retryKey && x.to === U('salon') && x.aggregationUnits?.[0] === 'reservation__reminder',
            ),
        )
        .map((r) => r.retryKey),
    ).size,
    1,
    'with the retry key the previous release gave it',
  );
});
