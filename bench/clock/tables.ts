// The clock benchmark's PostgreSQL side: a fresh database with every migration and the
// sample scenarios registered (by one real tick), the rows a month's ticks and hooks leave
// where lsd_dispatch_decide reads them (events, enrollments' due moments, runs), and the
// dispatcher's real decision and answer functions.
import pg from 'pg';
import { databaseUrl, freshDatabase } from '../database.js';
import { Store } from '../../src/store/store.js';
import { runTick } from '../../src/engine/index.js';
import { NoLineSender } from '../../src/line/sender.js';
import type { CompiledScenario } from '../../src/scenario/compile.js';
import type { ShopEvent, ShopEventType } from './model.js';
import type { Decider, Decision, Enrolled, Tables } from './simulate.js';

const SCENARIO_OF: Record<ShopEventType, string> = {
  follow: 'friend-welcome',
  cart_abandoned: 'cart-abandoned',
  purchased: 'after-purchase',
};
const user = (n: number) => `U${String(n).padStart(32, '0')}`;
const ts = (ms: number) => new Date(ms).toISOString();

/** Database `name` on the server, made afresh: migrated, the scenarios registered, no runs. */
export async function clockDatabase(
  base: string,
  name: string,
  scenarios: CompiledScenario[],
  at: number,
): Promise<{ client: pg.Client; drop: () => Promise<void> }> {
  const rpc = await freshDatabase(base, name);
  // One real tick registers the scenarios in force (what the decision reads event types from).
  await runTick({ store: new Store(rpc), sender: new NoLineSender(), scenarios, now: () => at });
  await rpc.close();
  const client = new pg.Client({ connectionString: databaseUrl(base, name) });
  await client.connect();
  await client.query(`delete from runs`);
  return {
    client,
    drop: async () => {
      await client.end().catch(() => {});
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** The rows a tick and the shop's hooks leave, as the decision function reads them. */
export class PostgresTables implements Tables {
  private runId: string | undefined;
  private readonly eventIds = new Map<number, string>();
  constructor(private readonly db: pg.Client) {}

  async eventArrived(e: ShopEvent): Promise<void> {
    const r = await this.db.query<{ id: string }>(
      `insert into events (line_user_id, type, occurred_at, inserted_at, source) values ($1, $2, $3, $3, 'clock') returning id`,
      [user(e.n), e.type, ts(e.at)],
    );
    this.eventIds.set(e.n, r.rows[0]!.id);
  }

  async runStarted(at: number, trigger: string): Promise<void> {
    const r = await this.db.query<{ id: string }>(
      `insert into runs (started_at, heartbeat_at, trigger) values ($1, $1, $2) returning id`,
      [ts(at), trigger],
    );
    this.runId = r.rows[0]!.id;
  }

  /** As lsd_reply_commit: the enrollment, due at once, and the reply sent (docs/reply.md). */
  async replied(at: number, enrolled: Enrolled): Promise<void> {
    await this.enrol(at, [enrolled], 'welcome');
    await this.db.query(
      `insert into replies (event_key, line_user_id, scenario_id, step_id, enrollment_id, status)
       select $1, e.line_user_id, e.scenario_id, 'welcome', e.id, 'sent' from enrollments e
       where e.line_user_id = $2 and e.status = 'active'`,
      [`clock-${enrolled.event.n}`, user(enrolled.event.n)],
    );
  }

  async tickWork(at: number, taken: ShopEvent[], fresh: Enrolled[], moved: Map<number, number | null>): Promise<void> {
    const ids = taken.map((e) => this.eventIds.get(e.n)!);
    taken.forEach((e) => this.eventIds.delete(e.n));
    if (ids.length)
      await this.db.query(`update events set status = 'done', processed_at = $2 where id = any($1::bigint[])`, [
        ids,
        ts(at),
      ]);
    await this.enrol(at, fresh);
    if (moved.size)
      await this.db.query(
        `update enrollments e set due_at = x.d, previous_at = $3, step_id = 'step',
           status = case when x.d is null then 'finished' else 'active' end,
           ended_at = case when x.d is null then $3::timestamptz end
         from unnest($1::text[], $2::timestamptz[]) as x(u, d)
         where e.line_user_id = x.u and e.status = 'active'`,
        [[...moved.keys()].map(user), [...moved.values()].map((d) => (d === null ? null : ts(d))), ts(at)],
      );
  }

  /** Enrollments written: active and due next at dueAt, or ended at once. */
  private async enrol(at: number, fresh: Enrolled[], stepId = 'step'): Promise<void> {
    if (!fresh.length) return;
    await this.db.query(
      `insert into enrollments (scenario_id, line_user_id, status, step_id, entered_at, previous_at, due_at, scenario_hash, shard_key, ended_at)
       select s, u, case when d is null then 'finished' else 'active' end, $5, $4, $4, d, 'clock', 0,
              case when d is null then $4::timestamptz end
       from unnest($1::text[], $2::text[], $3::timestamptz[]) as x(s, u, d)`,
      [
        fresh.map((f) => SCENARIO_OF[f.event.type]),
        fresh.map((f) => user(f.event.n)),
        fresh.map((f) => (f.dueAt === null ? null : ts(f.dueAt))),
        ts(at),
        stepId,
      ],
    );
  }

  async runFinished(at: number): Promise<void> {
    await this.db.query(`update runs set finished_at = $2, heartbeat_at = $2, status = 'ok' where id = $1`, [
      this.runId,
      ts(at),
    ]);
  }
}

/** The rows nobody reads: for the schedules alone. */
export const noTables: Tables = {
  eventArrived: () => Promise.resolve(),
  replied: () => Promise.resolve(),
  runStarted: () => Promise.resolve(),
  tickWork: () => Promise.resolve(),
  runFinished: () => Promise.resolve(),
};

/** The dispatcher's real functions: lsd_dispatcher_setup, lsd_dispatch_decide, lsd_dispatch_answer. */
export class SqlDecider implements Decider {
  constructor(private readonly db: pg.Client) {}

  async setUp(at: number, budgetMinutes: number | null): Promise<void> {
    await this.db.query(`select lsd_dispatcher_setup($1)`, [
      { owner: 'shop', repo: 'line-scenarios', workflow: 'step-delivery.yml', budget_minutes: budgetMinutes, now: at },
    ]);
  }

  async decide(at: number, origin: 'cron' | 'webhook'): Promise<Decision> {
    const r = await this.db.query<{
      d: { start: boolean; dispatch_id: number | null; wait_reason: string | null; not_before: number | null };
    }>(`select lsd_dispatch_decide($1) as d`, [{ now: at, record: true, origin }]);
    const d = r.rows[0]!.d;
    return {
      start: d.start,
      ...(d.dispatch_id === null ? {} : { id: Number(d.dispatch_id) }),
      waitReason: d.wait_reason,
      notBefore: d.not_before === null ? null : Number(d.not_before),
    };
  }

  async answer(id: number, outcome: 'started' | 'failed', at: number): Promise<void> {
    await this.db.query(`select lsd_dispatch_answer($1)`, [
      { id, outcome, http_status: outcome === 'started' ? 204 : 502, now: at },
    ]);
  }
}
