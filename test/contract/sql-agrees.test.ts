// The event contract (src/contract) and the engine's SQL check the same rules: a table of
// events, good ones and one per rule, goes through the TS contract and through ingest on
// PGlite (lsd_ingest_claim, which calls lsd_properties_problem and lsd_fact_problem), and
// both must take or set aside the same events for the same rule. Random properties then
// hold the rules for the properties ingest reads to SQL's lsd_fact_problem word for word,
// and the bounds to lsd_properties_problem.
import { afterAll, test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pgliteStore } from '../support/db.js';
import { FACT_PROPERTIES, FACT_TYPES, checkEvent } from '../../src/contract/events.js';
import { factProblem, jsonSizeProblem, propertiesProblem } from '../../src/contract/event-rules.js';

const { db } = await pgliteStore();
afterAll(() => db.close());

const NOW = Date.now();
const user = (i: number) => `U${i.toString(16).padStart(32, '0')}`;
const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

/** Each rule as both sides word it (the TS contract names paths; SQL names the rule). */
const RULES = {
  'user id': /"U" and 32 lowercase hex digits/,
  type: /lower snake case/,
  'before 2000': /before 2000-01-01/,
  'after now': /more than a day after now/,
  depth: /nests? deeper than 8 levels/,
  keys: /more than 100 keys/,
  string: /longer than 4000 characters/,
  size: /bytes of JSON/,
  fact: /^(follow|account_linked|profile_updated|survey_answered|list_added): /,
} as const;
type Rule = keyof typeof RULES;

interface Sample {
  name: string;
  type: string;
  properties?: Record<string, unknown>;
  occurredAt?: string;
  lineUserId?: string;
  /** The rule it breaks, or null when both must take it. */
  breaks: Rule | null;
}

const SAMPLES: Sample[] = [
  { name: 'a purchase', type: 'purchased', properties: { total: 5000, items: [{ sku: 'A-1' }] }, breaks: null },
  { name: 'a follow with a route', type: 'follow', properties: { route: 'qr', unblocked: true }, breaks: null },
  { name: 'an unfollow', type: 'unfollow', breaks: null },
  { name: 'a link', type: 'account_linked', properties: { memberId: 'M-1' }, breaks: null },
  { name: 'a numeric link', type: 'account_linked', properties: { memberId: 999_999_999_999_999 }, breaks: null },
  {
    name: 'a profile',
    type: 'profile_updated',
    properties: { attributes: { region: 'tokyo', tags: ['a', 1] } },
    breaks: null,
  },
  {
    name: 'a flat profile',
    type: 'profile_updated',
    properties: { gender: 'f', timezone: 'Asia/Tokyo' },
    breaks: null,
  },
  {
    name: 'an answer',
    type: 'survey_answered',
    properties: { survey: 's', question: 'size', answer: ['m', 'l'] },
    breaks: null,
  },
  { name: 'a survey without a question', type: 'survey_answered', properties: { survey: 's' }, breaks: null },
  { name: 'a list', type: 'list_added', properties: { list: 'vip' }, breaks: null },
  { name: '8 levels', type: 'viewed', properties: nest(8) as Record<string, unknown>, breaks: null },
  { name: '100 keys', type: 'viewed', properties: keys(100), breaks: null },
  { name: '4,000 emoji', type: 'viewed', properties: { note: '😀'.repeat(4000) }, breaks: null },
  {
    name: 'just under 64 KiB',
    type: 'viewed',
    properties: { a: 'x'.repeat(3990), b: Array(15).fill('y'.repeat(3990)) },
    breaks: null,
  },
  { name: 'an hour ahead', type: 'viewed', occurredAt: new Date(NOW + 3_600_000).toISOString(), breaks: null },
  { name: 'a bad user id', type: 'viewed', lineUserId: `U${'A'.repeat(32)}`, breaks: 'user id' },
  { name: 'a short user id', type: 'viewed', lineUserId: 'U123', breaks: 'user id' },
  { name: 'a camel-case type', type: 'cartAbandoned', breaks: 'type' },
  { name: 'a 65-character type', type: 'a'.repeat(65), breaks: 'type' },
  { name: 'a 1970 date', type: 'viewed', occurredAt: '1970-01-01T00:00:00Z', breaks: 'before 2000' },
  {
    name: 'two days ahead',
    type: 'viewed',
    occurredAt: new Date(NOW + 2 * 86_400_000).toISOString(),
    breaks: 'after now',
  },
  { name: '9 levels', type: 'viewed', properties: nest(9) as Record<string, unknown>, breaks: 'depth' },
  { name: 'a list 9 levels deep', type: 'viewed', properties: { l: [[[[[[[[1]]]]]]]] }, breaks: 'depth' },
  { name: '101 keys', type: 'viewed', properties: { ...keys(99), more: { k: 1 } }, breaks: 'keys' },
  { name: 'a long string', type: 'viewed', properties: { note: 'x'.repeat(4001) }, breaks: 'string' },
  { name: 'a long key', type: 'viewed', properties: { ['k'.repeat(4001)]: 1 }, breaks: 'string' },
  { name: 'over 64 KiB', type: 'viewed', properties: { a: Array(17).fill('y'.repeat(3900)) }, breaks: 'size' },
  { name: 'a route object', type: 'follow', properties: { route: { id: 1 } }, breaks: 'fact' },
  { name: 'unblocked as text', type: 'follow', properties: { unblocked: 'yes' }, breaks: 'fact' },
  { name: 'a link without memberId', type: 'account_linked', properties: {}, breaks: 'fact' },
  { name: 'a fractional memberId', type: 'account_linked', properties: { memberId: 1.5 }, breaks: 'fact' },
  { name: 'a blank memberId', type: 'account_linked', properties: { memberId: '  ' }, breaks: 'fact' },
  { name: 'a long memberId', type: 'account_linked', properties: { memberId: 'm'.repeat(201) }, breaks: 'fact' },
  { name: 'attributes as a list', type: 'profile_updated', properties: { attributes: ['a'] }, breaks: 'fact' },
  { name: 'linked as text', type: 'profile_updated', properties: { attributes: { linked: 'yes' } }, breaks: 'fact' },
  { name: 'a numeric timezone', type: 'profile_updated', properties: { timezone: 9 }, breaks: 'fact' },
  { name: 'an address object', type: 'profile_updated', properties: { address: { city: 'x' } }, breaks: 'fact' },
  { name: 'an object question', type: 'survey_answered', properties: { question: {} }, breaks: 'fact' },
  { name: 'an empty question', type: 'survey_answered', properties: { question: '' }, breaks: 'fact' },
  { name: 'a nested answer', type: 'survey_answered', properties: { question: 'q', answer: [[1]] }, breaks: 'fact' },
  { name: 'a list survey', type: 'survey_answered', properties: { question: 'q', survey: [] }, breaks: 'fact' },
  { name: 'a list_added without a list', type: 'list_added', properties: { name: 'vip' }, breaks: 'fact' },
  { name: 'a boolean list', type: 'list_added', properties: { list: true }, breaks: 'fact' },
];

/** The reason ingest sets each sample aside for, or null when it takes it in. */
async function ingestReasons(samples: Sample[]): Promise<(string | null)[]> {
  await db.query('delete from events');
  const ids: string[] = [];
  for (const [i, s] of samples.entries()) {
    const [row] = await db.query<{ id: string }>(
      `insert into events (line_user_id, type, properties, occurred_at, source) values ($1, $2, $3::jsonb, $4, 'test')
       returning id::text`,
      [
        s.lineUserId ?? user(i + 1),
        s.type,
        JSON.stringify(s.properties ?? {}),
        s.occurredAt ?? new Date(NOW).toISOString(),
      ],
    );
    ids.push(row!.id);
  }
  await db.call('lsd_ingest_claim', { now: NOW, owner: 'contract-test', limit: 1000, lease_seconds: 60 });
  const rows = await db.query<{ id: string; status: string; status_reason: string | null }>(
    'select id::text, status, status_reason from events',
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const row = byId.get(id)!;
    assert.ok(row.status === 'new' || row.status === 'set_aside', `unexpected status ${row.status}`);
    return row.status === 'set_aside' ? row.status_reason : null;
  });
}

const tsReason = (s: Sample, i: number): string | null => {
  const event = {
    type: s.type,
    line_user_id: s.lineUserId ?? user(i + 1),
    properties: s.properties ?? {},
    occurred_at: s.occurredAt ?? new Date(NOW).toISOString(),
  };
  const checked = checkEvent(event, NOW);
  return 'problem' in checked ? checked.problem : null;
};

test('the TS contract and ingest take and set aside the same events, each for the same rule', async () => {
  const sql = await ingestReasons(SAMPLES);
  for (const [i, s] of SAMPLES.entries()) {
    const ts = tsReason(s, i);
    const rule = s.breaks;
    if (rule === null) {
      assert.equal(ts, null, `${s.name}: the TS contract refuses it: ${ts}`);
      assert.equal(sql[i], null, `${s.name}: ingest sets it aside: ${sql[i]}`);
      continue;
    }
    assert.match(ts ?? 'taken', RULES[rule], `${s.name}: the TS contract should refuse it for ${rule}`);
    assert.match(sql[i] ?? 'taken', RULES[rule], `${s.name}: ingest should set it aside for ${rule}`);
    if (rule === 'fact') assert.ok(ts!.endsWith(sql[i]!), `${s.name}: worded alike\n  TS:  ${ts}\n  SQL: ${sql[i]}`);
  }
  // Every rule has a sample, so a rule dropped on one side shows here.
  assert.deepEqual(new Set(SAMPLES.map((s) => s.breaks).filter(Boolean)), new Set(Object.keys(RULES)));
});

// Values that sit on the edges of the rules the engine reads.
const edgeScalar = fc.oneof(
  fc.constantFrom('', ' ', '  ', ' x ', 'tokyo', 'Asia/Tokyo', 'm'.repeat(200), 'm'.repeat(201), 'あ'.repeat(201)),
  fc.constantFrom(0, 1, -1, 1.5, 999_999_999_999_999, -999_999_999_999_999, 1e15, 2 ** 53, 1e21, 5e-324),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
);
const edgeValue = fc.oneof(
  { weight: 4, arbitrary: edgeScalar },
  fc.array(edgeScalar, { maxLength: 3 }),
  fc.array(
    fc.oneof(
      edgeScalar,
      fc.array(edgeScalar, { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 3 }), edgeScalar, { maxKeys: 2 }),
    ),
    { maxLength: 3 },
  ),
  fc.dictionary(fc.constantFrom('a', 'b', 'city'), edgeScalar, { maxKeys: 2 }),
);
const EXTRA_KEYS = ['tags', 'Zone', '_x', 'a-b', 'someone@example.com', '日本'];
/** Each type's keys the engine reads (present about half the time each), and a few others. */
const READ_KEYS: Record<string, string[]> = {
  follow: ['route', 'unblocked'],
  account_linked: ['memberId'],
  profile_updated: ['linked', 'timezone'],
  survey_answered: ['question', 'answer', 'survey'],
  list_added: ['list'],
};
const objectFor = (type: string) => {
  const read = READ_KEYS[type] ?? ['route', 'list'];
  return fc
    .tuple(
      fc.record(Object.fromEntries(read.map((k) => [k, edgeValue])), { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom(...EXTRA_KEYS), edgeValue, { maxKeys: 3 }),
    )
    .map(([known, extra]) => ({ ...extra, ...known }));
};
const edgeProperties = (type: string) =>
  type !== 'profile_updated'
    ? objectFor(type)
    : fc.oneof(
        objectFor(type),
        fc
          .tuple(fc.oneof({ weight: 3, arbitrary: objectFor(type) }, edgeValue), objectFor('other'))
          .map(([attributes, rest]) => ({ ...rest, attributes })),
      );
const typeAndProperties = fc
  .constantFrom(...FACT_TYPES, 'unfollow', 'purchased')
  .chain((type) => edgeProperties(type).map((properties) => [type, properties] as const));
/** As PostgreSQL will hold it: JSON text and back (-0 becomes 0, key order as written). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
const unstorable = (value: unknown) => /\\u0000|\\ud[89a-f]/i.test(JSON.stringify(value));

propTest.prop([typeAndProperties], { numRuns: 400 })(
  'the properties ingest reads: the rules, the zod schemas and SQL lsd_fact_problem agree, word for word',
  async ([type, generated]) => {
    if (unstorable(generated)) return;
    const properties = asJson(generated);
    const ts = factProblem(type, properties) ?? null;
    const [row] = await db.query<{ r: string | null }>('select lsd_fact_problem($1, $2::jsonb) as r', [
      type,
      JSON.stringify(properties),
    ]);
    assert.equal(ts, row!.r);
    const schema = (FACT_PROPERTIES as Record<string, { safeParse(v: unknown): { success: boolean } }>)[type];
    if (schema) assert.equal(schema.safeParse(properties).success, ts === null, `zod schema of ${type}: ${ts}`);
  },
);

// Bounds: chains and fans around 8 levels and 100 keys, strings around 4,000 characters.
const boundedValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(1, null, true, 'x', 'y'.repeat(3999), 'y'.repeat(4000), '😀'.repeat(4000), 'y'.repeat(4001)),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), tie('value'), { maxKeys: 40 }),
  ),
})).value;
const chain = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : { d: chain(depth - 1, leaf) });

propTest.prop(
  [
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), boundedValue, { maxKeys: 70 }),
    fc.integer({ min: 5, max: 9 }),
  ],
  { numRuns: 150 },
)('the bounds of properties: the rules and SQL lsd_properties_problem take the same ones', async (generated, depth) => {
  const properties = asJson({ ...generated, deep: chain(depth - 2, [1]) });
  if (unstorable(properties)) return;
  const ts = propertiesProblem(properties) ?? jsonSizeProblem(properties, 'properties') ?? null;
  const [row] = await db.query<{ r: string | null }>(
    'select lsd_properties_problem($1::jsonb, octet_length($1::jsonb::text)) as r',
    [JSON.stringify(properties)],
  );
  assert.equal(ts === null, row!.r === null, `TS: ${ts}\nSQL: ${row!.r}`);
});
