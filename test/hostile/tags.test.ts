// Tags that look the same are one tag (issue 27 item 5): one rule (src/contract/names.ts
// normalizeTag; SQL lsd_normalize_tag, migration 20261207000300) in validation and at
// ingest. Two tags that look alike end up as one tag, or validation refuses one of them.
import { afterAll, beforeAll } from 'vitest';
import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizeTag, tagProblem } from '../../src/contract/names.js';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { formatIssue } from '../../src/scenario/issues.js';
import { loadScenarioTexts } from '../../src/scenario/loader.js';
import { formatJsonPath } from '../../src/scenario/json-source.js';
import type { SqlRpc } from '../../src/store/rpc.js';
import type { Store } from '../../src/store/store.js';
import { runTick } from '../../src/engine/tick.js';
import { NoLineSender } from '../../src/line/sender.js';
import { serverStore } from '../support/db.js';

/** Characters a tag is made of, and the ones that make a tag look like another. */
const LETTERS = [...'abcXYZ09 -_', 'あ', 'ア', 'ｱ', 'ｶﾞ', 'é', 'e\u0301', 'Å', 'ﬁ', '①', '😀', '❤', '한', 'ß'];
const LOOKALIKE = [
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\u2060', // word joiner
  '\ufeff', // BOM
  '\u00ad', // soft hyphen
  '\u200e', // left-to-right mark
  '\u202e', // right-to-left override
  '\u2066', // left-to-right isolate
  '\ufe0f', // variation selector 16
  '\u3164', // Hangul filler
];
const base = fc.array(fc.constantFrom(...LETTERS), { minLength: 1, maxLength: 8 }).map((a) => a.join(''));

/** Ways of writing the same-looking tag. */
const disguise = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), char: fc.constantFrom(...LOOKALIKE), at: fc.nat() }),
  fc.constant({ kind: 'fullwidth' as const }),
  fc.constant({ kind: 'nfd' as const }),
  fc.constant({ kind: 'spaces' as const }),
  fc.constant({ kind: 'case' as const }),
);
type Disguise = typeof disguise extends fc.Arbitrary<infer D> ? D : never;

function disguised(tag: string, d: Disguise): string {
  switch (d.kind) {
    case 'insert': {
      const chars = [...tag];
      const at = d.at % (chars.length + 1);
      return [...chars.slice(0, at), d.char, ...chars.slice(at)].join('');
    }
    case 'fullwidth':
      return tag.replace(/[!-~]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));
    case 'nfd':
      return tag.normalize('NFD');
    case 'spaces':
      return ` ${tag.replace(/ /g, '\u3000 ')}\u00a0`;
    case 'case':
      return tag.toUpperCase() === tag ? tag.toLowerCase() : tag.toUpperCase();
  }
}

/** A scenario whose action step adds both tags, validated as a file. */
function validateBoth(a: string, b: string) {
  const scenario = {
    id: 'tags',
    version: 1,
    entry: { trigger: { type: 'follow' } },
    steps: [
      { id: 'act', type: 'action', tags: { add: [a] } },
      { id: 'act2', type: 'action', tags: { add: [b] } },
    ],
  };
  return validateScenarioText('tags.json', JSON.stringify(scenario, null, 2));
}

test.prop([base, disguise], { numRuns: 500 })(
  'property: two tags that look the same end up as one tag, or validation refuses one of them',
  (tag, d) => {
    const other = disguised(tag, d);
    if (normalizeTag(tag) === normalizeTag(other)) return;
    const result = validateBoth(tag, other);
    assert.ok(
      result.issues.some((i) => i.rule === 'tag' || i.rule === 'text' || i.rule === 'schema'),
      `${JSON.stringify(tag)} and ${JSON.stringify(other)} are two tags, and both validated: ${result.issues.map(formatIssue).join('; ')}`,
    );
  },
);

test.prop(
  [fc.array(fc.constantFrom(...LETTERS, ...LOOKALIKE, '\u3000', '\t', '\n', 'Ａ', 'ｶ', 'ﾞ'), { maxLength: 12 })],
  {
    numRuns: 500,
  },
)('property: a normalized tag is its own normal form, and validation takes exactly the normal forms', (chars) => {
  const tag = chars.join('');
  const normal = normalizeTag(tag);
  assert.equal(normalizeTag(normal), normal);
  if (normal !== '' && [...normal].length <= 50 && !/[\p{Cc}]/u.test(normal))
    assert.equal(tagProblem(normal), undefined);
  if (tag !== normal) assert.match(tagProblem(tag) ?? '', /write it as|visible character/);
});

test('a tag not in its stored form is refused at its line with the form to write', () => {
  const result = validateBoth('ＶＩＰ', 'vip\u200b');
  const messages = result.issues.map(formatIssue);
  assert.ok(
    messages.some((m) => /tags\.json:\d+:\d+ .*write it as "VIP"/.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => /U\+200B.*write it as "vip"/.test(m)),
    messages.join('\n'),
  );
  const cased = validateBoth('VIP', 'Vip');
  assert.ok(
    cased.issues.some((i) => i.rule === 'tag' && /only in case/.test(i.message)),
    JSON.stringify(cased.issues),
  );
});

test('two files whose tags differ only in case: the later file is refused at the tag, naming the other file', () => {
  const adds = {
    id: 'adds',
    version: 1,
    entry: { trigger: { type: 'follow' } },
    steps: [{ id: 'act', type: 'action', tags: { add: ['VIP'] } }],
  };
  const asks = {
    id: 'asks',
    version: 1,
    entry: { trigger: { type: 'audience', condition: { field: 'user.tags', contains: 'vip' } } },
    steps: [{ id: 'hello', type: 'message', messages: [{ type: 'text', text: 'hi' }] }],
  };
  const loaded = loadScenarioTexts([
    { file: 'adds.json', text: JSON.stringify(adds, null, 2) },
    { file: 'asks.json', text: JSON.stringify(asks, null, 2) },
  ]);
  assert.deepEqual(
    loaded.issues.map((i) => [i.file, i.rule, formatJsonPath(i.path)]),
    [['asks.json', 'tag', '$.entry.trigger.condition.contains']],
  );
  assert.match(loaded.issues[0]!.message, /"vip" differs from "VIP" in adds\.json only in case/);
  assert.ok(loaded.issues[0]!.line > 1);
});

test('a filter on a tag event names its tag in the stored form too', () => {
  const scenario = {
    id: 'on-tag',
    version: 1,
    entry: { trigger: { type: 'event', event: 'tag_added', where: { tag: 'ＶＩＰ' } } },
    exit: [{ event: 'tag_removed', where: { tag: { in: ['vip\u200b'] } } }],
    steps: [{ id: 'hello', type: 'message', messages: [{ type: 'text', text: 'hi' }] }],
  };
  const result = validateScenarioText('on-tag.json', JSON.stringify(scenario, null, 2));
  assert.deepEqual(
    result.issues.filter((i) => i.rule === 'tag').map((i) => formatJsonPath(i.path)),
    ['$.entry.trigger.where.tag', '$.exit[0].where.tag.in[0]'],
  );
});

// The SQL says the same rule, and applies it to every write of a user's tags.
let db: SqlRpc;
let store: Store;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, store, drop } = await serverStore());
});
afterAll(async () => drop());

test.prop(
  [
    fc.array(
      fc.array(fc.constantFrom(...LETTERS, ...LOOKALIKE, '\u3000', '\t', 'Ａ', 'ｶ', 'ﾞ', '\u00a0'), { maxLength: 10 }),
      { minLength: 1, maxLength: 50 },
    ),
  ],
  { numRuns: 20 },
)('property: SQL lsd_normalize_tag gives what normalizeTag gives', async (tags) => {
  const strings = tags.map((t) => t.join(''));
  const rows = await db.query<{ n: string }>(
    'select lsd_normalize_tag(x) as n from unnest($1::text[]) with ordinality as u(x, i) order by i',
    [strings],
  );
  assert.deepEqual(
    rows.map((r) => r.n),
    strings.map(normalizeTag),
  );
});

test('ingest stores lookalike tags as one: profile_updated events (from a hook or a CSV import), and any other write', async () => {
  const user = `U${'a'.repeat(32)}`;
  const tagsOf = async () =>
    (
      await db.query<{ tags: unknown }>(`select attributes->'tags' as tags from line_users where line_user_id = $1`, [
        user,
      ])
    )[0]!.tags;
  await db.query(
    `insert into events (line_user_id, type, properties, source) values ($1, 'profile_updated', $2::jsonb, 'csv-import')`,
    [user, JSON.stringify({ tags: ['ＶＩＰ', 'vip\u200b', ' vip ', 'V\u0049P', '\u200b', 'gold'] })],
  );
  await runTick({ store, sender: new NoLineSender(), scenarios: [], now: () => Date.now() });
  assert.deepEqual(await tagsOf(), ['VIP', 'vip', 'gold']);
  // A team's own SQL goes through the same rule.
  await db.query(`update line_users set attributes = attributes || $2::jsonb where line_user_id = $1`, [
    user,
    JSON.stringify({ tags: ['ｇｏｌｄ', 'new\u202e', 'gold'] }),
  ]);
  assert.deepEqual(await tagsOf(), ['gold', 'new']);
});
