// Fuzzing ingest and planning with what a buggy shop or webhook sends: good events for
// good users, and malformed ones (wrong types for every property the engine reads, nulls,
// huge strings, deep nesting, extreme dates, duplicate link ids) for other users, mixed in
// one stream. A case is played twice, with and without the bad events, over several
// ticks: the good users must get exactly the same steps. Used by test/store/fuzz.test.ts
// (fixed seed, a few cases) and bench/fuzz.ts (longer runs).
import fc from 'fast-check';
import type { CompiledScenario } from '../../src/scenario/compile.js';
import { runTick, type TickResult } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import type { Store } from '../../src/store/store.js';
import type { SqlRpc } from '../../src/store/rpc.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 11:00 in Tokyo: the scenarios are switched on at this moment. */
export const FUZZ_START = Date.parse('2026-11-25T02:00:00Z');

export interface FuzzEvent {
  line_user_id: string | null;
  member_id: string | null;
  type: string;
  /** JSON text: deep nesting is written as text (JSON.stringify would overflow the stack). */
  properties: string;
  /** ISO text, or infinity / -infinity. */
  occurred_at: string;
  /** What the case means it to be: a good event, or a bad one that ingest must set aside (or that may pass). */
  kind: 'good' | 'must-set-aside' | 'may-pass';
  /** What it tries, for a failure message (never printed with user ids). */
  label: string;
}

export interface FuzzCase {
  /** Insertion rounds: the events of a round go in together, then ticks run. */
  rounds: FuzzEvent[][];
}

export interface FuzzOptions {
  goodUsers: number;
  badUsers: number;
  rounds: number;
  goodPerRound: number;
  badPerRound: number;
}

const userId = (n: number) => `U${n.toString(16).padStart(32, '0')}`;
export const goodUser = (i: number) => userId(0x1000 + i);
export const badUser = (i: number) => userId(0x9000 + i);
const goodMember = (i: number) => `M-good-${i}`;
const iso = (t: number) => new Date(t).toISOString();

/** When round r's events happen, and its first tick runs. */
export const roundAt = (r: number) => FUZZ_START + HOUR + r * 12 * HOUR;

// ---- good events ----------------------------------------------------------------------

function goodEventArb(users: number, at: number): fc.Arbitrary<FuzzEvent> {
  const who = fc.integer({ min: 0, max: users - 1 });
  const when = fc.integer({ min: 0, max: 30 }).map((m) => iso(at - m * 60_000));
  const good = (type: string, properties: fc.Arbitrary<Record<string, unknown>>, label: string) =>
    fc.record({ i: who, occurred: when, p: properties }).map(({ i, occurred, p }): FuzzEvent => ({
      line_user_id: goodUser(i),
      member_id: null,
      type,
      properties: JSON.stringify(p),
      occurred_at: occurred,
      kind: 'good',
      label,
    }));
  return fc.oneof(
    good(
      'follow',
      fc.record({ route: fc.constantFrom('ad-instagram', 'qr-seminar', 'shop') }, { requiredKeys: [] }),
      'follow',
    ),
    good(
      'cart_abandoned',
      fc.record({
        total: fc.constantFrom(500, 5000, 12000),
        productName: fc.constantFrom('白いスニーカー', 'Bag'),
        cartUrl: fc.constant('https://shop.example.com/cart'),
      }),
      'cart',
    ),
    good(
      'purchased',
      fc.record({
        plan: fc.constantFrom('regular', 'trial'),
        category: fc.constantFrom('skincare', 'general'),
        productName: fc.constant('Soap'),
        orderId: fc.constantFrom('A-1', 'A-2'),
      }),
      'purchase',
    ),
    good(
      'reservation_made',
      fc.record({
        reservationAt: fc.integer({ min: 30, max: 6 * 24 }).map((h) => iso(at + h * HOUR)),
        reservationLabel: fc.constant('12/1 15:00'),
      }),
      'reservation',
    ),
    good(
      'shipped',
      fc.record({ deliveryDate: fc.constant(iso(at + 2 * DAY)), trackingNumber: fc.constant('T-1') }),
      'shipped',
    ),
    good('subscription_started', fc.record({ nextDelivery: fc.constant(iso(at + 30 * DAY)) }), 'subscription'),
    good(
      'favorite_added',
      fc.record({ productId: fc.constantFrom('P-1', 'P-2'), productName: fc.constant('Lamp') }),
      'favorite',
    ),
    good(
      'survey_answered',
      fc.record({
        survey: fc.constant('interests'),
        question: fc.constant('q1'),
        answer: fc.constantFrom('a', 'b'),
        category: fc.constantFrom('skincare', 'haircare', 'other'),
      }),
      'survey',
    ),
    good('list_added', fc.constant({ list: 'vip-2026' }), 'list'),
    good(
      'profile_updated',
      fc.record({
        attributes: fc.record({
          region: fc.constantFrom('tokyo', 'osaka'),
          gender: fc.constantFrom('female', 'male'),
          ageBand: fc.constantFrom('20s', '40s'),
          tags: fc.constantFrom(['vip'], ['customer'], []),
        }),
      }),
      'profile',
    ),
    good('price_dropped', fc.constant({}), 'price drop'),
    good('unfollow', fc.constant({}), 'unfollow'),
    // A purchase by member id, for a user linked in round 0.
    fc.record({ i: who, occurred: when }).map(({ i, occurred }): FuzzEvent => ({
      line_user_id: null,
      member_id: goodMember(i),
      type: 'purchased',
      properties: '{"plan":"regular"}',
      occurred_at: occurred,
      kind: 'good',
      label: 'purchase by member id',
    })),
  );
}

// ---- bad events -----------------------------------------------------------------------

/** Values of every JSON type, and the awkward ones of each. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e20, -1e20, 1.7e18, 2 ** 53, 1e-7) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'not a date',
      '2026-13-45T99:00:00Z',
      '+275760-09-13T00:00:00Z',
      '1e20',
      '０１２',
      '😀',
      '"\\',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 4001, max: 9000 }).map((n) => 'あ'.repeat(n)) },
  // An object whose toString is not a function cannot be compared or shown: it throws.
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      [],
      [1, [2, [3]]],
      ['a', { b: 1 }],
      {},
      { nested: { a: 1 } },
      { toString: 1 },
      { valueOf: {}, toString: {} },
    ),
  },
);

/** Values the engine refuses for a property it needs to be a string (route, list, survey: numbers are taken). */
const notAString = fc.constantFrom(true, false, [], ['a'], {}, { toString: 1 });
const notABoolean = fc.constantFrom('yes', 'true', 1, 0, [], {}, { toString: 1 });
const notAFactValue = fc.constantFrom({}, { a: 1 }, [[1]], [{ a: 1 }], ['a', ['b']], { toString: 1 });

/** A JSON text nested `depth` levels deep (properties is level 1). */
const deepText = (depth: number, open: '[' | '{"a":') => {
  const close = open === '[' ? ']' : '}';
  return `{"a":${open.repeat(depth - 1)}${open === '[' ? '' : '1'}${close.repeat(depth - 1)}}`;
};

function badEventArb(users: number, at: number, round: number, goodUsers: number): fc.Arbitrary<FuzzEvent> {
  const who = fc.integer({ min: 0, max: users - 1 }).map(badUser);
  const when = fc.integer({ min: 0, max: 30 }).map((m) => iso(at - m * 60_000));
  const event = (
    kind: FuzzEvent['kind'],
    label: string,
    type: fc.Arbitrary<string>,
    properties: fc.Arbitrary<string>,
    occurred: fc.Arbitrary<string> = when,
    user: fc.Arbitrary<string | null> = who,
  ) =>
    fc.record({ u: user, t: type, p: properties, o: occurred }).map(({ u, t, p, o }): FuzzEvent => ({
      line_user_id: u,
      member_id: null,
      type: t,
      properties: p,
      occurred_at: o,
      kind,
      label,
    }));
  const json = <T>(a: fc.Arbitrary<T>) => a.map((v) => JSON.stringify(v));
  const factTypes: fc.Arbitrary<FuzzEvent>[] = [
    event(
      'must-set-aside',
      'follow: route not a string',
      fc.constant('follow'),
      json(notAString.map((route) => ({ route }))),
    ),
    event(
      'must-set-aside',
      'follow: unblocked not a boolean',
      fc.constant('follow'),
      json(notABoolean.map((unblocked) => ({ unblocked }))),
    ),
    event(
      'must-set-aside',
      'account_linked: bad memberId',
      fc.constant('account_linked'),
      json(
        fc.constantFrom(
          {},
          { memberId: null },
          { memberId: '' },
          { memberId: true },
          { memberId: [] },
          { memberId: {} },
          { memberId: 1.5 },
          { memberId: 'x'.repeat(201) },
        ),
      ),
    ),
    event(
      'must-set-aside',
      'profile_updated: attributes not an object',
      fc.constant('profile_updated'),
      json(fc.constantFrom('x', 1, [], null, true).map((attributes) => ({ attributes }))),
    ),
    event(
      'must-set-aside',
      'profile_updated: an attribute of a wrong type',
      fc.constant('profile_updated'),
      json(
        fc
          .record({ k: fc.constantFrom('age', 'region', 'tags', 'weird key!'), v: notAFactValue })
          .map(({ k, v }) => ({ attributes: { [k]: v } })),
      ),
    ),
    event(
      'must-set-aside',
      'profile_updated: linked not a boolean',
      fc.constant('profile_updated'),
      json(notABoolean.map((linked) => ({ attributes: { linked } }))),
    ),
    event(
      'must-set-aside',
      'profile_updated: timezone not a string',
      fc.constant('profile_updated'),
      json(fc.constantFrom(9, true, [], {}).map((timezone) => ({ timezone }))),
    ),
    event(
      'must-set-aside',
      'survey_answered: bad question',
      fc.constant('survey_answered'),
      json(fc.constantFrom('', ' ', true, [], {}).map((question) => ({ survey: 'interests', question, answer: 'a' }))),
    ),
    event(
      'must-set-aside',
      'survey_answered: answer an object',
      fc.constant('survey_answered'),
      json(notAFactValue.map((answer) => ({ survey: 'interests', question: 'q1', answer }))),
    ),
    event(
      'must-set-aside',
      'survey_answered: survey not a string',
      fc.constant('survey_answered'),
      json(notAString.map((survey) => ({ survey, question: 'q1', answer: 'a' }))),
    ),
    event(
      'must-set-aside',
      'list_added: bad list',
      fc.constant('list_added'),
      json(fc.constantFrom(null, undefined, true, [], {}, ['vip-2026']).map((list) => ({ list }))),
    ),
  ];
  const bounds: fc.Arbitrary<FuzzEvent>[] = [
    event(
      'must-set-aside',
      'nested deeper than 8 levels',
      fc.constantFrom('cart_abandoned', 'profile_updated', 'follow'),
      fc
        .tuple(fc.integer({ min: 9, max: 3000 }), fc.constantFrom('[' as const, '{"a":' as const))
        .map(([d, o]) => deepText(d, o)),
    ),
    event(
      'must-set-aside',
      'a string over 4,000 characters',
      fc.constantFrom('cart_abandoned', 'purchased'),
      fc.integer({ min: 4001, max: 20_000 }).map((n) => JSON.stringify({ total: 5000, productName: 'x'.repeat(n) })),
    ),
    event(
      'must-set-aside',
      'more than 100 keys',
      fc.constant('cart_abandoned'),
      fc
        .integer({ min: 101, max: 400 })
        .map((n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])))),
    ),
    event(
      'must-set-aside',
      'over 64 KiB',
      fc.constant('purchased'),
      fc
        .integer({ min: 17, max: 60 })
        .map((n) =>
          JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, 'y'.repeat(4000)]))),
        ),
    ),
    event(
      'must-set-aside',
      'properties not an object',
      fc.constantFrom('cart_abandoned', 'follow'),
      fc.constantFrom('[1]', '"x"', '1', 'null', 'true'),
    ),
    event(
      'must-set-aside',
      'an extreme occurred_at',
      fc.constantFrom('cart_abandoned', 'follow', 'unfollow', 'purchased'),
      fc.constant('{"total":5000}'),
      fc.constantFrom(
        'infinity',
        '-infinity',
        '0001-01-01T00:00:00Z',
        '1970-01-01T00:00:00Z',
        '1999-12-31T23:59:59Z',
        iso(at + 2 * DAY),
        '9999-12-31T00:00:00Z',
      ),
    ),
    event(
      'must-set-aside',
      'type not lower snake case',
      fc.constantFrom('Bad Type', 'cart-abandoned', 'x'.repeat(65), '1abc', ''),
      fc.constant('{}'),
    ),
    event(
      'must-set-aside',
      'not a LINE user id',
      fc.constant('purchased'),
      fc.constant('{}'),
      when,
      fc.constantFrom('U123', `u${'0'.repeat(32)}`, `U${'A'.repeat(32)}`, null),
    ),
  ];
  // Properties the sample scenarios read from triggers, of every odd type: the event is
  // valid, and what cannot use it (a date, a comparison) fails that enrollment alone.
  const triggerProperties: [string, string[]][] = [
    ['cart_abandoned', ['total', 'productName', 'cartUrl']],
    ['purchased', ['plan', 'category', 'productName', 'orderId']],
    ['reservation_made', ['reservationAt', 'reservationLabel']],
    ['shipped', ['deliveryDate', 'trackingNumber']],
    ['subscription_started', ['nextDelivery']],
    ['favorite_added', ['productId', 'productName']],
    ['survey_answered', ['category']],
    ['clicked', ['link']],
    ['follow', ['route']],
  ];
  const oddTrigger = fc.constantFrom(...triggerProperties).chain(([type, keys]) =>
    event(
      'may-pass',
      `${type}: odd trigger properties`,
      fc.constant(type),
      fc.record({ key: fc.constantFrom(...keys), value: oddValue }).map(({ key, value }) =>
        JSON.stringify({
          ...(type === 'survey_answered' ? { survey: 'interests', question: 'q1' } : {}),
          ...(type === 'cart_abandoned' ? { total: 5000 } : {}),
          [key]: value,
        }),
      ),
    ),
  );
  const unknownMember = fc.constantFrom('purchased', 'cart_abandoned').map((type): FuzzEvent => ({
    line_user_id: null,
    member_id: `M-nobody-${round}`,
    type,
    properties: '{"total":5000}',
    occurred_at: iso(at),
    kind: 'may-pass',
    label: 'a member id no one linked',
  }));
  const arbs: fc.WeightedArbitrary<FuzzEvent>[] = [...factTypes, ...bounds, unknownMember].map((arbitrary) => ({
    arbitrary,
    weight: 1,
  }));
  // Odd trigger properties reach routing and the planner: about a third of the bad events.
  arbs.push({ arbitrary: oddTrigger, weight: 10 });
  // A link nonce used twice: a bad user links a member id a good user linked in round 0.
  if (round > 0)
    arbs.push({
      arbitrary: event(
        'must-set-aside',
        'a member id linked to another user',
        fc.constant('account_linked'),
        fc.integer({ min: 0, max: goodUsers - 1 }).map((i) => JSON.stringify({ memberId: goodMember(i) })),
      ),
      weight: 1,
    });
  return fc.oneof(...arbs);
}

/** Good and bad events in rounds, mixed in one random order (good links first in round 0). */
export function fuzzCaseArb(o: FuzzOptions): fc.Arbitrary<FuzzCase> {
  const rounds = Array.from({ length: o.rounds }, (_, r) => {
    const at = roundAt(r);
    const links: FuzzEvent[] =
      r > 0
        ? []
        : Array.from({ length: o.goodUsers }, (_, i) => ({
            line_user_id: goodUser(i),
            member_id: null,
            type: 'account_linked',
            properties: JSON.stringify({ memberId: goodMember(i) }),
            occurred_at: iso(at - HOUR),
            kind: 'good',
            label: 'link',
          }));
    return fc
      .tuple(
        fc.array(goodEventArb(o.goodUsers, at), { minLength: o.goodPerRound, maxLength: o.goodPerRound }),
        fc.array(badEventArb(o.badUsers, at, r, o.goodUsers), { minLength: o.badPerRound, maxLength: o.badPerRound }),
      )
      .chain(([good, bad]) => fc.shuffledSubarray([...good, ...bad], { minLength: good.length + bad.length }))
      .map((mixed) => [...links, ...mixed]);
  });
  return fc.tuple(...rounds).map((r) => ({ rounds: r }));
}

// ---- playing a case -------------------------------------------------------------------

/** Empties what a case wrote, so the next case starts from nothing. */
export async function resetDatabase(db: SqlRpc): Promise<void> {
  await db.exec(
    'truncate events, line_users, line_link_nonces, enrollments, deliveries, outbox_batches, runs, scenarios, scenario_versions restart identity cascade',
  );
}

async function insertEvents(db: SqlRpc, events: FuzzEvent[]): Promise<string[]> {
  if (!events.length) return [];
  // One statement a round; properties cross as text and become jsonb on the server.
  const rows = await db.query<{ id: string }>(
    `insert into events (line_user_id, member_id, type, properties, occurred_at, source)
     select x.line_user_id, x.member_id, x.type, x.properties::jsonb, x.occurred_at::timestamptz, 'fuzz'
     from rows from (json_to_recordset($1::json) as (line_user_id text, member_id text, type text, properties text, occurred_at text)) with ordinality
          as x(line_user_id, member_id, type, properties, occurred_at, n)
     order by x.n returning id::text`,
    [
      JSON.stringify(
        events.map(({ line_user_id, member_id, type, properties, occurred_at }) => ({
          line_user_id,
          member_id,
          type,
          properties,
          occurred_at,
        })),
      ),
    ],
  );
  return rows.map((r) => r.id);
}

export interface FuzzOutcome {
  ticks: TickResult[];
  /** Per good user: every delivery and enrollment, as comparable lines. */
  goodUsers: Map<string, string[]>;
  /** Each bad event, with where it ended. */
  bad: { event: FuzzEvent; status: string; reason: string | null }[];
  /** Seconds spent in ticks. */
  tickSeconds: number;
}

/**
 * Plays a case on an empty database: the scenarios are switched on, then each round's
 * events are inserted (without the bad ones unless withBad) and two ticks run, four
 * hours apart, then eight hours pass. A tick that throws fails the case. pageSize (rows a
 * page, default the tick's) moves where pages split: what users get must not depend on it.
 */
export async function playFuzzCase(
  c: FuzzCase,
  options: {
    store: Store;
    db: SqlRpc;
    scenarios: CompiledScenario[];
    withBad: boolean;
    goodUsers: number;
    pageSize?: number | undefined;
  },
): Promise<FuzzOutcome> {
  const { store, db, scenarios } = options;
  let now = FUZZ_START;
  const ticks: TickResult[] = [];
  let tickSeconds = 0;
  const tick = async () => {
    const started = performance.now();
    ticks.push(
      await runTick({ store, sender: new NoLineSender(), scenarios, now: () => now, pageSize: options.pageSize }),
    );
    tickSeconds += (performance.now() - started) / 1000;
  };
  await tick();
  const badIds: { event: FuzzEvent; id: string }[] = [];
  for (const [r, round] of c.rounds.entries()) {
    now = roundAt(r);
    const events = options.withBad ? round : round.filter((e) => e.kind === 'good');
    const ids = await insertEvents(db, events);
    events.forEach((e, i) => e.kind !== 'good' && badIds.push({ event: e, id: ids[i]! }));
    await tick();
    now += 4 * HOUR;
    await tick();
  }
  const users = Array.from({ length: options.goodUsers }, (_, i) => goodUser(i));
  const goodUsers = new Map<string, string[]>(users.map((u) => [u, []]));
  const deliveries = await db.query<{ line_user_id: string; line: string }>(
    `select line_user_id, concat_ws(' ', scenario_id, step_id, kind, status, to_char(due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')) as line
     from deliveries where line_user_id = any($1) order by line_user_id, due_at, line`,
    [users],
  );
  const enrollments = await db.query<{ line_user_id: string; line: string }>(
    `select line_user_id, concat_ws(' ', 'enrollment', scenario_id, status, step_id, exit_reason) as line
     from enrollments where line_user_id = any($1) order by line_user_id, line`,
    [users],
  );
  for (const row of [...deliveries, ...enrollments]) goodUsers.get(row.line_user_id)!.push(row.line);
  const statuses = await db.query<{ id: string; status: string; status_reason: string | null }>(
    `select id::text, status, status_reason from events where id = any($1::bigint[])`,
    [badIds.map((b) => b.id)],
  );
  const byId = new Map(statuses.map((s) => [s.id, s]));
  const bad = badIds.map(({ event, id }) => ({
    event,
    status: byId.get(id)!.status,
    reason: byId.get(id)!.status_reason,
  }));
  return { ticks, goodUsers, bad, tickSeconds };
}
