// Retention benchmark: a simulated year of a shop on a real PostgreSQL server, the real
// engine writing its real rows, with the default retention (90 days). Prints the
// database's size month by month, its growth a month after the retention period (target
// under 5%), and the largest size of the year against Supabase Free's 500 MB.
//
// The shop: F friends (default 10,000; --friends 50000), 0.3% of F new friends a day (follow
// events), F/10 shop events a day (--events-per-day): cart_abandoned 35%, purchased 30%,
// shipped 25%, favorite_added 10%, at random moments, to random friends; the five sample
// scenarios that react to them (friend-welcome, cart-abandoned, after-purchase,
// after-shipment, favorite-added). A tick every --tick-hours (default 3) in run mode no-line
// (state advances, LINE not called), its retention phase included; the runs of the 30-minute
// schedule it stands for are added as rows of the measured size (1.3 KB a tick). Time is
// simulated: every row is stamped with the simulated clock.
//
// Autovacuum is off on the benchmark's machine: a plain VACUUM once a simulated day stands
// in for it (Supabase runs autovacuum; a deleted row's space is reused, the files do not
// shrink). --no-vacuum shows this machine's growth without it.
// Run: npm run bench -- retention [--friends N] [--days N] [--tick-hours H] [--no-vacuum] [--database NAME] [postgres://...]
// --forecast-only: the forecast's time on the database the last run left. --resume: go on
// from where a stopped run left off (its last tick), on its database.
import { loadScenarioDir } from '../src/scenario/loader.js';
import type { CompiledScenario } from '../src/scenario/compile.js';
import { Store } from '../src/store/store.js';
import type { SqlRpc } from '../src/store/rpc.js';
import { runTick } from '../src/engine/index.js';
import { NoLineSender } from '../src/line/sender.js';
import { databaseUrl, freshDatabase, serverUrl } from './database.js';
import { openPostgres } from '../src/store/postgres.js';
import { migrate } from '../src/store/migrate.js';
import { forecastInForce } from '../src/commands/forecast.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MB = 1024 ** 2;
const SCENARIOS = ['friend-welcome', 'cart-abandoned', 'after-purchase', 'after-shipment', 'favorite-added'];
const SHOP_TYPES = `(array['cart_abandoned','cart_abandoned','cart_abandoned','cart_abandoned','cart_abandoned','cart_abandoned','cart_abandoned',
  'purchased','purchased','purchased','purchased','purchased','purchased','shipped','shipped','shipped','shipped','shipped',
  'favorite_added','favorite_added'])`;

interface Options {
  friends: number;
  eventsPerDay: number;
  days: number;
  tickHours: number;
  vacuum: boolean;
  url: string;
  /** The benchmark's database (dropped and made again). */
  database: string;
}

function options(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const friends = value('--friends') ?? 10_000;
  return {
    friends,
    eventsPerDay: value('--events-per-day') ?? friends / 10,
    days: value('--days') ?? 365,
    tickHours: value('--tick-hours') ?? 3,
    vacuum: !args.includes('--no-vacuum'),
    url: serverUrl(args),
    database: args.includes('--database') ? args[args.indexOf('--database') + 1]! : 'lsd_bench_retention',
  };
}

const U = (g: string) => `'U' || lpad(to_hex(${g}), 32, '0')`;

/** The friends there at the start. */
async function seedFriends(db: SqlRpc, o: Options, start: number): Promise<void> {
  await db.exec(`insert into line_users (line_user_id, following, followed_at, attributes)
    select ${U('g')}, true, to_timestamp(${start / 1000}) - interval '1 day',
           jsonb_build_object('displayName', 'Friend ' || g, 'region', (array['tokyo','osaka','fukuoka'])[1 + g % 3])
    from generate_series(1, ${o.friends}) g`);
}

/** The events of one tick's window [from, to): shop events to random friends, and new friends. */
async function addEvents(db: SqlRpc, o: Options, from: number, to: number, newFriendsSoFar: number): Promise<number> {
  const hours = (to - from) / HOUR;
  const shop = Math.round((o.eventsPerDay * hours) / 24);
  const follows = Math.round((o.friends * 0.003 * hours) / 24);
  const at = `to_timestamp((${from} + random() * ${to - from - 1}) / 1000.0)`;
  await db.exec(`
    insert into events (line_user_id, type, properties, occurred_at, inserted_at, source)
    select ${U(`1 + floor(random() * ${o.friends})::int`)}, t.type,
           case t.type
             when 'cart_abandoned' then jsonb_build_object('productName', 'Item ' || g, 'total', 1000 + (g * 37) % 9000, 'cartId', 'C-' || g)
             when 'purchased' then jsonb_build_object('orderId', 'A-' || g, 'category', (array['shoes','skincare','bags'])[1 + g % 3], 'total', 3000)
             when 'shipped' then jsonb_build_object('orderId', 'A-' || g, 'deliveryDate', 'the day after tomorrow', 'trackingNumber', 'T-' || g)
             else jsonb_build_object('productName', 'Item ' || g, 'productId', 'p' || g % 500) end,
           x.at_, x.at_, 'shop-events'
    from generate_series(1, ${shop}) g
    cross join lateral (select ${SHOP_TYPES}[1 + floor(random() * 20)::int] as type) t
    cross join lateral (select ${at} as at_) x;
    insert into events (line_user_id, type, properties, occurred_at, inserted_at, source)
    select ${U(`${o.friends + newFriendsSoFar} + g`)}, 'follow', '{"route":"ad-instagram"}', x.at_, x.at_, 'line-webhook'
    from generate_series(1, ${follows}) g cross join lateral (select ${at} as at_) x;`);
  return follows;
}

/** The runs of the 30-minute schedule this tick stands for, beyond its own (1.3 KB each). */
async function addScheduleRuns(db: SqlRpc, o: Options, from: number): Promise<void> {
  const extra = Math.round(o.tickHours * 2) - 1;
  if (extra <= 0) return;
  await db.exec(`insert into runs (started_at, finished_at, counts, status, trigger)
    select to_timestamp((${from} + g * 1800000) / 1000.0), to_timestamp((${from} + g * 1800000 + 40000) / 1000.0),
           (select jsonb_object_agg('k' || i, repeat('x', 20)) from generate_series(1, 40) i), 'ok', 'schedule'
    from generate_series(1, ${extra}) g`);
}

async function sizeOf(db: SqlRpc): Promise<number> {
  const [r] = await db.query<{ n: string }>('select pg_database_size(current_database())::text as n');
  return Number(r!.n);
}

async function largestTables(db: SqlRpc): Promise<string> {
  const rows = await db.query<{ t: string; mb: string; n: string }>(`
    select c.relname as t, round(pg_total_relation_size(c.oid) / 1048576.0, 1)::text as mb, c.reltuples::bigint::text as n
    from pg_class c join pg_namespace s on s.oid = c.relnamespace
    where s.nspname = 'public' and c.relkind = 'r' order by pg_total_relation_size(c.oid) desc limit 6`);
  return rows.map((r) => `${r.t} ${r.mb} MB (~${Number(r.n).toLocaleString('en-US')} rows)`).join(', ');
}

/** The forecast's time over the year's database (its active enrollments, read in pages, dated by the timeline). */
async function timeForecast(db: SqlRpc, now: number): Promise<void> {
  const start = performance.now();
  const f = await forecastInForce(new Store(db), now);
  const inside = f.scenarios.reduce((sum, s) => sum + s.inside, 0);
  console.log(
    `forecast: ${inside.toLocaleString('en-US')} users inside over ${f.scenarios.length} scenarios, ` +
      `${f.total.toLocaleString('en-US')} messages in the next 30 days, in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
}

interface Simulation {
  db: SqlRpc;
  compiled: CompiledScenario[];
  start: number;
  /** The first tick's window start: the year's start, or where a stopped run left off (--resume). */
  resumeAt: number;
  newFriends: number;
}

/** A fresh database with the friends, or (--resume) the one a stopped run left, from its last tick on. */
async function prepare(o: Options, resume: boolean): Promise<Simulation> {
  const start = Date.parse('2027-01-01T00:00:00Z');
  const { scenarios } = await loadScenarioDir('scenarios');
  const compiled = scenarios.filter((s) => SCENARIOS.includes(s.scenario.id)).map((s) => s.compiled);
  if (!resume) {
    const db = await freshDatabase(o.url, o.database);
    await seedFriends(db, o, start);
    return { db, compiled, start, resumeAt: start, newFriends: 0 };
  }
  const db = await openPostgres(databaseUrl(o.url, o.database));
  // Brought forward to this release, as an upgrade would.
  await migrate(db);
  const [r] = await db.query<{ at: Date; users: string; follows: string }>(`select
    (select max(started_at) from runs) as at, (select count(*) from line_users)::text as users,
    (select count(*) from events where type = 'follow' and status = 'new')::text as follows`);
  // The events of the last window are there (a tick takes them in); the next window starts after it.
  const window = o.tickHours * HOUR;
  const resumeAt = Math.ceil(new Date(r!.at).getTime() / window) * window;
  return { db, compiled, start, resumeAt, newFriends: Number(r!.users) - o.friends + Number(r!.follows) };
}

export async function benchRetention(args: string[]): Promise<void> {
  const o = options(args);
  if (args.includes('--forecast-only')) {
    // On the database a previous run left: the forecast alone.
    const db = await openPostgres(databaseUrl(o.url, o.database));
    const [r] = await db.query<{ at: Date }>('select max(started_at) as at from runs');
    await timeForecast(db, new Date(r!.at).getTime());
    await db.close();
    return;
  }
  const sim = await prepare(o, args.includes('--resume'));
  const { db, compiled, start } = sim;
  const store = new Store(db);
  console.log(
    `retention: ${o.friends.toLocaleString('en-US')} friends, ${o.eventsPerDay.toLocaleString('en-US')} shop events a day, ` +
      `${compiled.length} scenarios, a tick every ${o.tickHours} h (runs of a 30-min schedule), retention 90 days, ` +
      `${o.vacuum ? 'VACUUM once a simulated day (for autovacuum, off here)' : 'no VACUUM (autovacuum off here)'}` +
      (sim.resumeAt > start ? `; resumed at day ${((sim.resumeAt - start) / DAY).toFixed(2)}` : ''),
  );
  const sizes: { day: number; bytes: number }[] = [{ day: (sim.resumeAt - start) / DAY, bytes: await sizeOf(db) }];
  const wall = performance.now();
  let newFriends = sim.newFriends;
  const removed = { events: 0, batches: 0, enrollments: 0, deliveries: 0, runs: 0 };
  for (let day = Math.floor((sim.resumeAt - start) / DAY); day < o.days; day++) {
    for (let h = 0; h < 24; h += o.tickHours) {
      const from = start + day * DAY + h * HOUR;
      if (from < sim.resumeAt) continue;
      const to = from + o.tickHours * HOUR;
      newFriends += await addEvents(db, o, from, to, newFriends);
      await addScheduleRuns(db, o, from);
      const r = await runTick({
        store,
        sender: new NoLineSender(),
        scenarios: compiled,
        now: () => to,
        mode: 'no-line',
      });
      if (r.retentionError) throw new Error(`retention failed: ${r.retentionError}`);
      for (const k of Object.keys(removed) as (keyof typeof removed)[]) removed[k] += r.retention?.removed[k] ?? 0;
    }
    if (o.vacuum) await db.exec('vacuum');
    if ((day + 1) % 30 === 0 || day + 1 === o.days) {
      const size = await sizeOf(db);
      const prev = sizes[sizes.length - 1]!;
      sizes.push({ day: day + 1, bytes: size });
      console.log(
        `day ${String(day + 1).padStart(3)}: ${(size / MB).toFixed(1).padStart(7)} MB (${size >= prev.bytes ? '+' : ''}${(((size - prev.bytes) / prev.bytes) * 100).toFixed(1)}% since day ${prev.day.toFixed(0)}) · ` +
          `removed: ${Object.entries(removed)
            .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
            .join(', ')} · ${((performance.now() - wall) / 1000).toFixed(0)} s`,
      );
    }
  }
  console.log(`largest tables: ${await largestTables(db)}`);
  await timeForecast(db, start + o.days * DAY);
  // From day 120 on: retention is 3 months, and an enrollment ends up to a month after it starts.
  const after = sizes.filter((x) => x.day >= 120);
  const growths = after
    .slice(1)
    .map((x, i) => ((x.bytes - after[i]!.bytes) / after[i]!.bytes) * (30 / (x.day - after[i]!.day)));
  const worst = growths.length ? Math.max(...growths) : NaN;
  const peak = Math.max(...sizes.map((x) => x.bytes));
  console.log(
    `after the retention period: largest growth in a month ${(worst * 100).toFixed(1)}% (target under 5%); ` +
      `largest size of the year ${(peak / MB).toFixed(1)} MB (Supabase Free: 500 MB; ${peak < 500 * MB ? 'within' : 'over'})`,
  );
  await db.close();
}
