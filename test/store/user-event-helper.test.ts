// What each event does to a user's record is said once, in SQL's lsd_apply_user_event
// (migration 20261204000001), and ingest (lsd_ingest_claim, and so the what-if) applies it.
// Here it is held to a model written from the documented rules, per event type on the real
// server and as a property over random event sequences split into random pages; and to the
// planner's routing: an event that changes a user's attributes is one after which routing
// looks at audience triggers again, and only follow and unfollow change whether a user follows.
import { afterAll, expect, test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { serverStore } from '../support/db.js';
import { ATTRIBUTE_EVENTS, FOLLOW, UNFOLLOW } from '../../src/planner/route.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import { normalizeTag } from '../../src/contract/names.js';

const NOW = Date.parse('2026-12-04T03:00:00Z');
const MIN = 60_000;
const { db, drop } = await serverStore();
afterAll(drop);

const user = (n: number) => `U${n.toString(16).padStart(32, '0')}`;

/** A user's record as the model keeps it (instants in ms). */
interface UserRecord {
  following: boolean;
  followedAt: number | null;
  unfollowedAt: number | null;
  followRoute: string | null;
  memberId: string | null;
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
}
interface Ev {
  user: string;
  type: string;
  at: number;
  properties: Record<string, unknown>;
}

const newRecord = (): UserRecord => ({
  following: true,
  followedAt: null,
  unfollowedAt: null,
  followRoute: null,
  memberId: null,
  attributes: {},
  answers: {},
});
/** As SQL's ->> gives a string or a number (the only kinds the rules let through here). */
const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);

/**
 * Tags as line_users keeps them (docs/scenario-safety.md; the trigger of migration
 * 20261207000300): each text tag in its normal form, empty ones dropped, each tag once.
 */
function storedTags(tags: unknown): unknown {
  if (typeof tags === 'string') return normalizeTag(tags);
  if (!Array.isArray(tags)) return tags;
  const out: unknown[] = [];
  for (const t of tags) {
    const v = typeof t === 'string' ? normalizeTag(t) : t;
    if (v !== '' && !out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
  }
  return out;
}

/** The documented rules (docs/hooks.md, the data contract): what one event does to its user's record. */
function applyEvent(u: UserRecord, e: Ev): UserRecord {
  const p = e.properties;
  switch (e.type) {
    case 'follow':
      // A follow older than the last unfollow (delivered late) does not undo it.
      if (u.unfollowedAt !== null && u.unfollowedAt > e.at) return u;
      return { ...u, following: true, followedAt: e.at, followRoute: text(p.route) ?? u.followRoute };
    case 'unfollow':
      if (u.followedAt !== null && u.followedAt > e.at) return u;
      return { ...u, following: false, unfollowedAt: e.at };
    case 'account_linked':
      return { ...u, memberId: text(p.memberId), attributes: { ...u.attributes, linked: true } };
    case 'profile_updated': {
      const attributes = { ...u.attributes, ...((p.attributes as Record<string, unknown>) ?? p) };
      if ('tags' in attributes) attributes.tags = storedTags(attributes.tags);
      return { ...u, attributes };
    }
    case 'survey_answered':
      // No question, or no answer (missing or null): it only routes, an earlier answer stays.
      if (p.question === undefined || p.question === null || p.answer === undefined || p.answer === null) return u;
      return { ...u, answers: { ...u.answers, [text(p.question)!]: p.answer } };
    default:
      // Action steps' events (tag_added, ...) were applied by the commit that recorded them.
      return u;
  }
}

/** The facts routing gets (lsd_user_facts): linked also when a member id is known. */
function factsOf(id: string, u: UserRecord) {
  const linked = u.attributes.linked;
  return {
    line_user_id: id,
    following: u.following,
    attributes: {
      ...u.attributes,
      linked:
        u.memberId !== null ||
        linked === true ||
        (typeof linked === 'string' && ['true', 't', 'yes', 'y', 'on', '1'].includes(linked.toLowerCase())),
    },
    answers: u.answers,
  };
}

interface Answer {
  events: { id: string; line_user_id: string; type: string; facts_before?: unknown; facts_after?: unknown }[];
  set_aside: number;
  more: boolean;
}
interface Row {
  line_user_id: string;
  following: boolean;
  followed_at: number | null;
  unfollowed_at: number | null;
  follow_route: string | null;
  member_id: string | null;
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
}

async function insertEvents(rpc: SqlRpc, events: Ev[]): Promise<string[]> {
  const rows = await rpc.query<{ id: string }>(
    `insert into events (line_user_id, type, properties, occurred_at, source)
     select x->>'user', x->>'type', x->'properties', to_timestamp((x->>'at')::bigint / 1000.0), 'test'
     from jsonb_array_elements($1::jsonb) with ordinality as t(x, n) order by n
     returning id::text`,
    [JSON.stringify(events)],
  );
  return rows.map((r) => r.id);
}

/** Takes in every new event, `limit` a page, and returns the pages' answers. */
async function ingest(rpc: SqlRpc, limit: number): Promise<Answer[]> {
  const pages: Answer[] = [];
  for (;;) {
    const page = await rpc.call<Answer>('lsd_ingest_claim', { now: NOW, owner: 't', limit, lease_seconds: 600 });
    if (page.events.length === 0 && page.set_aside === 0) return pages;
    pages.push(page);
  }
}

async function records(rpc: SqlRpc, users: string[]): Promise<Map<string, Row>> {
  const rows = await rpc.query<Row>(
    `select line_user_id, following, lsd_ms(followed_at)::float8 as followed_at, lsd_ms(unfollowed_at)::float8 as unfollowed_at,
            follow_route, member_id, attributes, answers
     from line_users where line_user_id = any($1)`,
    [users],
  );
  return new Map(rows.map((r) => [r.line_user_id, r]));
}
const asRow = (id: string, u: UserRecord): Row => ({
  line_user_id: id,
  following: u.following,
  followed_at: u.followedAt,
  unfollowed_at: u.unfollowedAt,
  follow_route: u.followRoute,
  member_id: u.memberId,
  attributes: u.attributes,
  answers: u.answers,
});

interface Case {
  name: string;
  /** The user's record before (undefined: a new user). */
  before?: Partial<UserRecord>;
  event: Omit<Ev, 'user'>;
  after: Partial<UserRecord>;
}
const at = (minutes: number) => NOW - 60 * MIN + minutes * MIN;
const CASES: Case[] = [
  {
    name: 'a follow of a new user: following, with its route',
    event: { type: 'follow', at: at(0), properties: { route: 'qr-store' } },
    after: { following: true, followedAt: at(0), followRoute: 'qr-store' },
  },
  {
    name: 'a follow without a route keeps the route of the last',
    before: { following: false, followedAt: at(0), unfollowedAt: at(1), followRoute: 'ad' },
    event: { type: 'follow', at: at(2), properties: { unblocked: true } },
    after: { following: true, followedAt: at(2), followRoute: 'ad' },
  },
  {
    name: 'a follow delivered after a later unfollow does not undo it',
    before: { following: false, followedAt: at(0), unfollowedAt: at(5) },
    event: { type: 'follow', at: at(3), properties: { route: 'late' } },
    after: { following: false, followedAt: at(0), unfollowedAt: at(5), followRoute: null },
  },
  {
    name: 'an unfollow ends following',
    before: { following: true, followedAt: at(0) },
    event: { type: 'unfollow', at: at(4), properties: {} },
    after: { following: false, followedAt: at(0), unfollowedAt: at(4) },
  },
  {
    name: 'an unfollow older than the follow is ignored',
    before: { following: true, followedAt: at(6) },
    event: { type: 'unfollow', at: at(4), properties: {} },
    after: { following: true, followedAt: at(6), unfollowedAt: null },
  },
  {
    name: 'an account link sets the member id and linked',
    before: { attributes: { region: 'tokyo' } },
    event: { type: 'account_linked', at: at(1), properties: { memberId: 'M-100' } },
    after: { memberId: 'M-100', attributes: { region: 'tokyo', linked: true } },
  },
  {
    name: 'a numeric member id is kept as its digits',
    event: { type: 'account_linked', at: at(1), properties: { memberId: 4200 } },
    after: { memberId: '4200', attributes: { linked: true } },
  },
  {
    name: 'a profile update merges its attributes object',
    before: { attributes: { region: 'osaka', gender: 'f' } },
    event: { type: 'profile_updated', at: at(1), properties: { attributes: { region: 'tokyo', tags: ['vip'] }, x: 1 } },
    after: { attributes: { region: 'tokyo', gender: 'f', tags: ['vip'] } },
  },
  {
    name: 'a profile update without an attributes object merges its properties',
    before: { attributes: { region: 'osaka' } },
    event: { type: 'profile_updated', at: at(1), properties: { timezone: 'Asia/Tokyo', region: null } },
    after: { attributes: { region: null, timezone: 'Asia/Tokyo' } },
  },
  {
    name: 'an answer is recorded under its question',
    before: { answers: { size: 'm' } },
    event: { type: 'survey_answered', at: at(1), properties: { survey: 's', question: 'color', answer: ['red'] } },
    after: { answers: { size: 'm', color: ['red'] } },
  },
  {
    name: 'a question without an answer keeps the earlier answer (a tap that carried none)',
    before: { answers: { '7': 'yes' } },
    event: { type: 'survey_answered', at: at(1), properties: { question: 7 } },
    after: { answers: { '7': 'yes' } },
  },
  {
    name: 'a null answer keeps the earlier answer',
    before: { answers: { color: 'red' } },
    event: { type: 'survey_answered', at: at(1), properties: { survey: 's', question: 'color', answer: null } },
    after: { answers: { color: 'red' } },
  },
  {
    name: "a shop's survey without a question only routes",
    before: { answers: { size: 'm' } },
    event: { type: 'survey_answered', at: at(1), properties: { survey: 's', score: 5 } },
    after: { answers: { size: 'm' } },
  },
  {
    name: "an action step's tag_added changes nothing at ingest (the commit applied it)",
    before: { attributes: { tags: ['a'] } },
    event: { type: 'tag_added', at: at(1), properties: { tag: 'b', scenario: 's', step: 't' } },
    after: { attributes: { tags: ['a'] } },
  },
  {
    name: 'attribute_set changes nothing at ingest either',
    before: { attributes: { plan: 'free' } },
    event: { type: 'attribute_set', at: at(1), properties: { name: 'plan', value: 'gold' } },
    after: { attributes: { plan: 'free' } },
  },
  {
    name: 'any other event of a new user: a record, following',
    event: { type: 'purchased', at: at(1), properties: { total: 5000 } },
    after: { following: true },
  },
];

async function seed(rpc: SqlRpc, id: string, u: UserRecord): Promise<void> {
  await rpc.query(
    `insert into line_users (line_user_id, following, followed_at, unfollowed_at, follow_route, member_id, attributes, answers)
     values ($1, $2, to_timestamp($3::float8 / 1000), to_timestamp($4::float8 / 1000), $5, $6, $7::jsonb, $8::jsonb)`,
    [
      id,
      u.following,
      u.followedAt,
      u.unfollowedAt,
      u.followRoute,
      u.memberId,
      JSON.stringify(u.attributes),
      JSON.stringify(u.answers),
    ],
  );
}

test('each event type does to the user record what the rules say, and routing gets the facts before and after', async () => {
  const events = CASES.map((c, i) => ({ ...c.event, user: user(1000 + i) }));
  for (const [i, c] of CASES.entries()) if (c.before) await seed(db, user(1000 + i), { ...newRecord(), ...c.before });
  await insertEvents(db, events);
  const [page] = await ingest(db, 1000);
  const stored = await records(
    db,
    events.map((e) => e.user),
  );
  for (const [i, c] of CASES.entries()) {
    const id = user(1000 + i);
    const before = c.before ? { ...newRecord(), ...c.before } : undefined;
    const expected = { ...(before ?? newRecord()), ...c.after };
    expect({ case: c.name, row: stored.get(id) }).toEqual({ case: c.name, row: asRow(id, expected) });
    // The model agrees with the table's expectation.
    expect({ case: c.name, model: applyEvent(before ?? newRecord(), events[i]!) }).toEqual({
      case: c.name,
      model: expected,
    });
    const answered = page!.events.find((e) => e.line_user_id === id)!;
    if (['follow', 'unfollow', 'account_linked', 'profile_updated', 'survey_answered'].includes(c.event.type)) {
      expect({ case: c.name, after: answered.facts_after }).toEqual({ case: c.name, after: factsOf(id, expected) });
      expect({ case: c.name, before: answered.facts_before }).toEqual({
        case: c.name,
        before: before ? factsOf(id, before) : undefined,
      });
    } else {
      expect({ case: c.name, facts: [answered.facts_before, answered.facts_after] }).toEqual({
        case: c.name,
        facts: [undefined, undefined],
      });
    }
  }
});

test('the helper writes nothing: it returns the record after the event', async () => {
  const id = user(2000);
  await seed(db, id, { ...newRecord(), attributes: { region: 'osaka' } });
  const [row] = await db.query<{ attributes: unknown; stored: unknown }>(
    `select (lsd_apply_user_event(u, 'profile_updated', '{"region": "tokyo"}', now(), now())).attributes,
            (select attributes from line_users where line_user_id = $1) as stored
     from line_users u where u.line_user_id = $1`,
    [id],
  );
  expect(row).toEqual({ attributes: { region: 'tokyo' }, stored: { region: 'osaka' } });
});

// Random sequences: a few users, events out of order in time, split into random pages.
const scalar = fc.oneof(
  fc.constantFrom('tokyo', 'osaka', 'vip', 'm', ''),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
);
const value = fc.oneof({ weight: 3, arbitrary: scalar }, fc.constant(null), fc.array(scalar, { maxLength: 3 }));
const attrs = fc
  .dictionary(fc.constantFrom('region', 'gender', 'tags', 'plan', 'timezone', 'linked'), value, {
    maxKeys: 3,
  })
  .map((a: Record<string, unknown>) => {
    // The rules of lsd_fact_problem: linked true/false/null, timezone a string or null.
    if ('linked' in a && typeof a.linked !== 'boolean' && a.linked !== null) a.linked = true;
    if ('timezone' in a && typeof a.timezone !== 'string' && a.timezone !== null) a.timezone = 'Asia/Tokyo';
    return a;
  });
const eventArb = fc.record({
  user: fc.integer({ min: 1, max: 3 }).map(user),
  at: fc.integer({ min: 0, max: 20 }).map((m) => at(m)),
  body: fc.oneof(
    fc.record({
      type: fc.constant('follow'),
      properties: fc.record({ route: fc.constantFrom('qr', 'ad', 7) }, { requiredKeys: [] }),
    }),
    fc.record({ type: fc.constant('unfollow'), properties: fc.constant({}) }),
    fc.record({
      type: fc.constant('account_linked'),
      properties: fc.record({ memberId: fc.constantFrom('M-1', 'M-2', 3) }),
    }),
    fc.record({
      type: fc.constant('profile_updated'),
      properties: fc.oneof(
        attrs,
        attrs.map((a) => ({ attributes: a })),
      ),
    }),
    fc.record({
      type: fc.constant('survey_answered'),
      properties: fc.record({ question: fc.constantFrom('size', 'color', 2), answer: value }, { requiredKeys: [] }),
    }),
    fc.record({ type: fc.constantFrom('tag_added', 'purchased'), properties: fc.constant({ tag: 'x' }) }),
  ),
});

propTest.prop([fc.array(eventArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 8 })], { numRuns: 60 })(
  'any sequence of events, in any pages: the records and the facts routing gets follow the rules, and routing re-reads audiences after each change of attributes',
  async (generated, limit) => {
    await db.exec('delete from events; delete from line_users');
    const events: Ev[] = generated.map((g) => ({ user: g.user, at: g.at, ...g.body }));
    const ids = await insertEvents(db, events);
    const pages = await ingest(db, limit);
    const model = new Map<string, UserRecord>();
    const byId = new Map(pages.flatMap((p) => p.events.map((e) => [e.id, e] as const)));
    let page = -1;
    let seenInPage = new Set<string>();
    const pageOf = new Map(pages.flatMap((p, n) => p.events.map((e) => [e.id, n] as const)));
    for (const [i, e] of events.entries()) {
      const answered = byId.get(ids[i]!);
      // A member id already linked to another user: set aside, nothing applied.
      const member = text(e.properties.memberId);
      const conflict =
        e.type === 'account_linked' && [...model].some(([id, u]) => id !== e.user && u.memberId === member);
      expect({ event: i, taken: Boolean(answered) }).toEqual({ event: i, taken: !conflict });
      if (!answered) continue;
      if (pageOf.get(ids[i]!) !== page) [page, seenInPage] = [pageOf.get(ids[i]!)!, new Set()];
      const before = model.get(e.user);
      const after = applyEvent(before ?? newRecord(), e);
      model.set(e.user, after);
      const changing = ['follow', 'unfollow', 'account_linked', 'profile_updated', 'survey_answered'].includes(e.type);
      expect({ event: i, after: answered.facts_after }).toEqual({
        event: i,
        after: changing ? factsOf(e.user, after) : undefined,
      });
      if (changing && !seenInPage.has(e.user)) {
        seenInPage.add(e.user);
        expect({ event: i, before: answered.facts_before }).toEqual({
          event: i,
          before: before ? factsOf(e.user, before) : undefined,
        });
      } else expect({ event: i, before: answered.facts_before }).toEqual({ event: i, before: undefined });
      // Routing's side: an attribute change is re-read by audience triggers; following changes only by follow or unfollow.
      const was = before ? factsOf(e.user, before) : undefined;
      const now = factsOf(e.user, after);
      if (was && !isDeepStrictEqual(was.attributes, now.attributes))
        expect({ type: e.type, rereadByAudiences: ATTRIBUTE_EVENTS.has(e.type) }).toEqual({
          type: e.type,
          rereadByAudiences: true,
        });
      if (was && was.following !== now.following) expect([FOLLOW, UNFOLLOW]).toContain(e.type);
    }
    const stored = await records(db, [...model.keys()]);
    for (const [id, u] of model) expect(stored.get(id)).toEqual(asRow(id, u));
  },
);
