// npm run bench -- clock [--seed N] [--shop busy|quiet] [--sql FILE] [postgres://...]: a simulated month of two
// reference shops running the sample scenarios, under three ways of starting ticks (every 5
// minutes, hourly, the dispatcher beside an hourly safety net), through the dispatcher's real
// decision function on PostgreSQL (a fresh database per run). GitHub's model and the shops
// are in bench/clock/model.ts, the simulation in bench/clock/simulate.ts; docs/costs.md has
// the figures. Prints one line per case (read by machine), then what the dispatcher decided.
import { readFile } from 'node:fs/promises';
import { loadScenarioDir } from '../src/scenario/loader.js';
import type { CompiledScenario } from '../src/scenario/compile.js';
import { serverUrl } from './database.js';
import { Rng, SHOPS, shopEvents, stepMoments, type Shop } from './clock/model.js';
import { ClockSimulation, WARM_UP, monthOf, type ClockResult } from './clock/simulate.js';
import { PostgresTables, SqlDecider, clockDatabase, noTables } from './clock/tables.js';

/** December 2026: a 31-day month (UTC, as GitHub bills). */
const MONTH = monthOf(Date.UTC(2026, 11, 15));

type Way = 'every 5 minutes' | 'hourly' | 'dispatcher';

/** The p-quantile (0-1) of the values, nearest rank. */
export function quantile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface ClockCase {
  shop: Shop;
  way: Way;
  seed: number;
  /** For the dispatcher: the monthly budget of billed minutes (null: none). */
  budget?: number | null;
  /** The server's base URL, for the dispatcher's database. */
  server?: string;
  /** Its database's name (a fresh one). */
  database?: string;
  /** SQL applied after the migrations (a proposed change to the decision, measured before it lands). */
  extraSql?: string | undefined;
  /** Shorter months for tests: [from, to) measured, after warmUp ms (default 8 days and an hour). */
  month?: { from: number; to: number };
  warmUp?: number;
}

/** One shop under one way of starting ticks, over the month. */
export async function simulateCase(c: ClockCase, scenarios: Map<string, CompiledScenario>): Promise<ClockResult> {
  const month = c.month ?? MONTH;
  const start = month.from - (c.warmUp ?? WARM_UP);
  // The same shop's events and step moments in every way it is run (seeded by the shop).
  const rng = new Rng(c.seed * 7 + (c.shop.name === 'busy' ? 1 : 2));
  const events = shopEvents(rng, c.shop, start, month.to);
  const moments = new Map(events.map((e) => [e.n, stepMoments(rng, e, scenarios)]));
  const base = { events, moments, start, from: month.from, to: month.to, seed: c.seed };
  if (c.way !== 'dispatcher') {
    const schedule = c.way === 'hourly' ? { every: 60, offset: 17 } : { every: 5, offset: 0 };
    return new ClockSimulation({ ...base, schedule, tables: noTables }).run();
  }
  const db = await clockDatabase(c.server!, c.database ?? 'lsd_bench_clock', [...scenarios.values()], start - 60_000);
  try {
    if (c.extraSql) await db.client.query(c.extraSql);
    const decider = new SqlDecider(db.client);
    await decider.setUp(month.from - 6 * 3600_000, c.budget ?? null);
    const tables = new PostgresTables(db.client);
    // The hourly safety net beside the dispatcher, off the top of the hour.
    // Set up six hours before the month; the warm-up before that runs every 5 minutes.
    const dispatchFrom = month.from - 6 * 3600_000;
    const plan = { ...base, schedule: { every: 60, offset: 17 }, tables, decider, dispatchFrom };
    return await new ClockSimulation(plan).run();
  } finally {
    await db.drop();
  }
}

export function clockLine(c: ClockCase, r: ClockResult): string {
  const p95 = Math.round(quantile(r.lateness, 0.95));
  const max = Math.round(Math.max(0, ...r.lateness));
  return `clock: ${c.shop.name} shop, ${c.way}: p95 lateness ${p95} s, max ${max} s; billed minutes ${r.billedMinutes} a month`;
}

export async function benchClock(args: string[]): Promise<void> {
  const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const seed = Number(option('--seed') ?? 1);
  // --sql FILE: a proposed change to the decision, applied after the migrations; --shop busy|quiet: one shop.
  const sqlFile = option('--sql');
  const extraSql = sqlFile ? await readFile(sqlFile, 'utf8') : undefined;
  const only = option('--shop');
  // A proposal runs in a database of its own, beside a run of the decision as it is.
  const database = extraSql ? 'lsd_bench_clock_proposal' : 'lsd_bench_clock';
  const server = serverUrl(args);
  const { scenarios } = await loadScenarioDir('scenarios');
  const compiled = new Map(scenarios.map((s) => [s.compiled.id, s.compiled]));
  const notes: string[] = [];
  const run = async (c: ClockCase) => {
    const began = performance.now();
    const r = await simulateCase(c, compiled);
    console.log(clockLine(c, r));
    notes.push(
      `  ${c.shop.name}, ${c.way}: ${r.runs} runs, ${r.lateness.length} steps sent by runs (${r.replies} welcomes by reply), p50 ${Math.round(quantile(r.lateness, 0.5))} s, ` +
        `${r.dropped} scheduled runs dropped, ${r.decisions} decisions (${r.starts} starts; ${r.heldAsks} asks left out while a wait held); ${((performance.now() - began) / 1000).toFixed(1)} s`,
    );
    return r;
  };
  if (only !== 'quiet') {
    const busy5 = await run({ shop: SHOPS.busy, way: 'every 5 minutes', seed });
    await run({ shop: SHOPS.busy, way: 'hourly', seed });
    await run({ shop: SHOPS.busy, way: 'dispatcher', seed, budget: busy5.billedMinutes, server, extraSql, database });
  }
  if (only !== 'busy') {
    await run({ shop: SHOPS.quiet, way: 'every 5 minutes', seed });
    await run({ shop: SHOPS.quiet, way: 'dispatcher', seed, budget: null, server, extraSql, database });
  }
  const proposal = sqlFile ? `; the decision changed by ${sqlFile}` : '';
  console.log(
    `clock: seed ${seed}, December 2026 (31 days, UTC); the busy dispatcher's budget = every 5 minutes' billed minutes${proposal}`,
  );
  for (const n of notes) console.log(n);
}
