// The local demo: an in-memory PGlite, run mode no-line (LINE not called), sample users and
// events for every sample scenario, and ticks over two simulated weeks. Prints what each
// user received when.
import { loadScenarioDir } from '../scenario/loader.js';
import { formatIssue } from '../scenario/issues.js';
import { openPglite } from '../store/pglite.js';
import { migrate } from '../store/migrate.js';
import { Store } from '../store/store.js';
import type { NewEvent } from '../domain.js';
import { NoLineSender } from '../line/sender.js';
import { runTick } from '../engine/index.js';
import { DAY, HOUR, MINUTE, formatLocal, localToInstant } from '../time/zoned.js';
import { clipText, summarizeMessage } from '../planner/timeline.js';
import type { CompiledScenario } from '../scenario/compile.js';

interface DemoEvent {
  day: number;
  time: string;
  who: string;
  type: string;
  properties?: Record<string, unknown>;
  member?: string;
}

/** A made-up customer base: one story per sample scenario. */
export const DEMO_EVENTS: DemoEvent[] = [
  { day: 0, time: '10:00', who: 'Aoi (friend added)', type: 'follow' },
  {
    day: 0,
    time: '10:05',
    who: 'Ren (friend added from an ad)',
    type: 'follow',
    properties: { route: 'ad-instagram' },
  },
  {
    day: 0,
    time: '12:00',
    who: 'Sora (left a cart, bought next day)',
    type: 'cart_abandoned',
    properties: { productName: '白いスニーカー', total: 5000 },
  },
  {
    day: 1,
    time: '08:00',
    who: 'Sora (left a cart, bought next day)',
    type: 'purchased',
    properties: { orderId: 'A-1', category: 'shoes' },
  },
  {
    day: 0,
    time: '20:00',
    who: 'Yui (left a cart, never bought)',
    type: 'cart_abandoned',
    properties: { productName: 'トートバッグ', total: 3000 },
  },
  { day: 0, time: '10:30', who: 'Haru (QR code at a seminar)', type: 'follow', properties: { route: 'qr-seminar' } },
  { day: 0, time: '11:00', who: 'Mei (VIP list import)', type: 'list_added', properties: { list: 'vip-2026' } },
  {
    day: 0,
    time: '12:00',
    who: 'Rin (booked the salon)',
    type: 'reservation_made',
    properties: { reservationAtDay: 3, reservationLabel: '3日後 15:00' },
  },
  {
    day: 0,
    time: '11:00',
    who: 'Kai (subscribed)',
    type: 'subscription_started',
    properties: { nextDelivery: '来月1日' },
  },
  {
    day: 0,
    time: '13:00',
    who: 'Nao (answered the survey)',
    type: 'survey_answered',
    properties: { survey: 'interests', category: 'skincare' },
  },
  {
    day: 0,
    time: '14:00',
    who: 'Riku (order shipped)',
    type: 'shipped',
    properties: { deliveryDate: '明後日', trackingNumber: 'T-123' },
  },
  {
    day: 0,
    time: '15:00',
    who: 'Emi (added a favorite)',
    type: 'favorite_added',
    properties: { productName: '美容液', productId: 'p1' },
  },
  { day: 4, time: '09:00', who: 'Emi (added a favorite)', type: 'price_dropped', properties: { productId: 'p1' } },
  { day: 0, time: '16:00', who: 'Taku (trial set)', type: 'trial_purchased' },
  {
    day: 0,
    time: '17:00',
    who: 'Hana (linked her account)',
    type: 'profile_updated',
    properties: { attributes: { region: 'tokyo', displayName: 'Hana' } },
  },
  { day: 0, time: '17:30', who: 'Hana (linked her account)', type: 'account_linked', properties: { memberId: 'M-77' } },
  {
    day: 0,
    time: '10:00',
    who: 'Hana (linked her account)',
    type: 'purchased',
    member: 'M-77',
    properties: { orderId: 'B-7', category: 'skincare' },
  },
  {
    day: 0,
    time: '11:30',
    who: 'Saki (store QR, answered the survey)',
    type: 'follow',
    properties: { route: 'store-qr' },
  },
  {
    day: 2,
    time: '18:10',
    who: 'Saki (store QR, answered the survey)',
    type: 'survey_answered',
    properties: { survey: 'onboarding', question: 'interest', answer: 'skincare' },
  },
  { day: 0, time: '10:00', who: 'Jun (blocked the account on day 2)', type: 'follow' },
  { day: 2, time: '12:00', who: 'Jun (blocked the account on day 2)', type: 'unfollow' },
];

export const demoUserId = (who: string) => `U${Buffer.from(who).toString('hex').padEnd(32, '0').slice(0, 32)}`;

const TZ = 'Asia/Tokyo';

/** The demo's clock and events: simulated time starts on a Monday at 09:00 in Tokyo. */
class DemoTimeline {
  readonly start = localToInstant(TZ, 2026, 11, 23, 9, 0); // a Monday
  now = this.start;
  /** When each batch went out (the tick's moment). */
  readonly sentAt = new Map<string, number>();
  private readonly pending = [...DEMO_EVENTS].sort((a, b) => this.when(a) - this.when(b));

  when(e: DemoEvent): number {
    const [h, m] = e.time.split(':').map(Number) as [number, number];
    return this.start + e.day * DAY + (h - 9) * HOUR + m * MINUTE;
  }

  /** The events whose moment has come, taken off the list, each as the store takes it. */
  due(): NewEvent[] {
    const out: NewEvent[] = [];
    while (this.pending.length && this.when(this.pending[0]!) <= this.now) {
      const e = this.pending.shift()!;
      const properties = { ...e.properties };
      if (typeof properties.reservationAtDay === 'number') {
        properties.reservationAt = new Date(this.start + properties.reservationAtDay * DAY + 6 * HOUR).toISOString();
        delete properties.reservationAtDay;
      }
      out.push({
        ...(e.member ? { memberId: e.member } : { userId: demoUserId(e.who) }),
        type: e.type,
        properties,
        occurredAt: this.when(e),
        source: 'demo',
        idempotencyKey: `demo-${this.pending.length}-${e.type}`,
      });
    }
    return out;
  }
}

export async function runDemo(
  options: { dir: string; days?: number; out?: (line: string) => void } = { dir: 'scenarios' },
): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = await loadScenarioDir(options.dir);
  if (loaded.issues.length) {
    for (const issue of loaded.issues) out(formatIssue(issue));
    return 1;
  }
  const days = options.days ?? 14;
  const db = await openPglite();
  await migrate(db);
  const store = new Store(db);
  const sender = new NoLineSender();
  const scenarios = loaded.scenarios.map((s) => s.compiled);
  const time = new DemoTimeline();
  const started = performance.now();
  out(
    `Demo: ${scenarios.length} scenarios, ${new Set(DEMO_EVENTS.map((e) => e.who)).size} users, ticks every hour over ${days} days (embedded Postgres, run mode no-line: LINE not called).`,
  );
  let ticks = 0;
  for (; time.now <= time.start + days * DAY; time.now += HOUR) {
    for (const event of time.due()) await store.insertEvents([event]);
    const before = sender.sent.length;
    await runTick({ store, sender, scenarios, now: () => time.now });
    for (const b of sender.sent.slice(before)) time.sentAt.set(b.id, time.now);
    ticks++;
  }
  const seconds = (performance.now() - started) / 1000;
  const actions = await printStories(store, sender, time, out);
  out('');
  out(
    `${ticks} ticks in ${seconds.toFixed(1)} s; ${sender.sent.length} LINE requests would have gone out (${sender.sent.reduce((n, b) => n + b.recipients.length, 0)} messages); ${actions} change(s) by action steps (⚙), ${sender.richMenus.length} of them rich menu requests.`,
  );
  out(countedMessages(sender, scenarios));
  await store.close();
  return 0;
}

/**
 * What LINE would count against the monthly quota (recipients of pushes and multicasts),
 * without and with the welcome by reply: the demo has no webhook, so the steps marked
 * "reply" went by push here; with the LINE webhook deployed they go as replies, which LINE
 * does not count (docs/reply.md).
 */
export function countedMessages(sender: NoLineSender, scenarios: readonly CompiledScenario[]): string {
  const replySteps = new Set(
    scenarios.flatMap((c) => {
      const first = c.steps.get(c.first)!.step;
      return first.type === 'message' && first.reply === true ? [`${c.id}/${first.id}`] : [];
    }),
  );
  const counted = sender.sent.reduce((n, b) => n + b.recipients.length, 0);
  const free = sender.sent
    .filter((b) => replySteps.has(`${b.scenarioId}/${b.stepId}`))
    .reduce((n, b) => n + b.recipients.length, 0);
  return (
    `Messages LINE counts against the monthly quota: ${counted} with every welcome pushed; ` +
    `${counted - free} with the welcome by reply (${free} welcome(s) of steps marked "reply" go free as replies).`
  );
}

/**
 * Each user's story: what happened (←) beside what they received (→) and what action steps
 * changed (⚙), in order, then why the rest did not come. Returns the count of changes.
 */
async function printStories(
  store: Store,
  sender: NoLineSender,
  time: DemoTimeline,
  out: (line: string) => void,
): Promise<number> {
  const story = new Map<string, { at: number; order: number; line: string }[]>();
  const tell = (user: string, at: number, order: number, line: string) => {
    const list = story.get(user) ?? [];
    list.push({ at, order, line: `${formatLocal(at, TZ)}  ${line}` });
    story.set(user, list);
  };
  for (const e of DEMO_EVENTS) tell(demoUserId(e.who), time.when(e), 0, `← ${e.type}${describeProperties(e)}`);
  for (const b of sender.sent) {
    const what = b.messages.map((m) => summarizeMessage(m, 40)).join(' + ');
    for (const to of b.recipients)
      tell(to, time.sentAt.get(b.id)!, 1, `→ ${`${b.scenarioId}/${b.stepId}`.padEnd(36)} ${what}`);
  }
  let actions = 0;
  for (const who of new Set(DEMO_EVENTS.map((e) => e.who))) {
    const user = demoUserId(who);
    for (const a of await actionsOf(store, user)) {
      tell(user, a.at, 1, a.line);
      actions++;
    }
    out('');
    out(who);
    const lines = (story.get(user) ?? []).sort((a, b) => a.at - b.at || a.order - b.order);
    for (const l of lines) out(`  ${l.line}`);
    for (const why of await whyNot(store, user, TZ)) out(`  ✗ ${why}`);
  }
  return actions;
}

/** The trigger's properties, short: what a person reading the demo needs to follow the story. */
function describeProperties(e: DemoEvent): string {
  const shown = Object.entries(e.properties ?? {}).filter(([k]) => k !== 'reservationAtDay');
  if (e.properties?.reservationAtDay !== undefined)
    shown.push(['reservationAt', `day ${e.properties.reservationAtDay as number} 15:00`]);
  const text = shown
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean)}`)
    .join(', ');
  return text ? `  (${clipText(text, 60)})` : '';
}

/**
 * What action steps did to a user, from the events the engine recorded (source step): tags,
 * attributes, the rich menu (linked once LINE, here the no-line sender, took the request).
 */
async function actionsOf(store: Store, user: string): Promise<{ at: number; line: string }[]> {
  const answer = await store.inspect(user, 200);
  const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return (answer.events ?? [])
    .filter((e) => e.source === 'step')
    .map((e) => {
      const p = e.properties;
      const what =
        e.type === 'tag_added'
          ? `tag + ${shown(p.tag)}`
          : e.type === 'tag_removed'
            ? `tag − ${shown(p.tag)}`
            : e.type === 'attribute_set'
              ? `${shown(p.name)} = ${shown(p.value)}`
              : e.type === 'attribute_cleared'
                ? `${shown(p.name)} cleared`
                : e.type === 'richmenu_linked'
                  ? `rich menu → ${shown(p.alias ?? p.richMenuId)}`
                  : 'rich menu unlinked';
      return { at: Number(e.occurredAt), line: `⚙ ${`${shown(p.scenario)}/${shown(p.step)}`.padEnd(36)} ${what}` };
    });
}

/** Why steps did not come: enrollments that ended early, steps skipped or expired. */
async function whyNot(store: Store, user: string, tz: string): Promise<string[]> {
  const answer = await store.inspect(user, 0);
  const reasons: string[] = [];
  for (const e of answer.enrollments ?? []) {
    if (e.status !== 'exited') continue;
    const conversion = e.convertedAt !== null ? ' (a conversion)' : '';
    reasons.push(
      `${e.scenarioId} ended at ${formatLocal(e.endedAt ?? e.previousAt, tz)}: ${e.exitReason ?? 'exited'}${conversion}`,
    );
  }
  for (const d of answer.deliveries ?? []) {
    if ((d.kind === 'send' || d.kind === 'act') && d.status !== 'skipped' && d.status !== 'failed') continue;
    const what = d.kind === 'expire' ? 'expired' : d.kind === 'fail' ? 'failed' : 'not sent';
    reasons.push(`${d.scenarioId}/${d.stepId} ${what}: ${d.reason ?? ''}`.trimEnd());
  }
  return reasons;
}
