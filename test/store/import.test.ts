// CSV import: streamed, row errors with line numbers, and a second import adds nothing.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCsv } from '../../src/commands/import.js';
import { pgliteStore } from '../support/db.js';

const U = (n: number) => `U${n.toString(16).padStart(32, '0')}`;

test('a user list imports as list_added events, once, and bad rows are named by line', async () => {
  const { store, db } = await pgliteStore();
  const dir = await mkdtemp(join(tmpdir(), 'lsd-csv-'));
  const file = join(dir, 'vip.csv');
  await writeFile(file, `line_user_id,member_id\n${U(1)},\n,M-2\nnot-a-user,\n${U(3)},\n,\n`);
  const first = await importCsv({ file, list: 'vip-2026', store });
  assert.deepEqual([first.rows, first.inserted, first.unchanged], [5, 3, 0]);
  assert.deepEqual(first.errors, [
    { line: 4, message: 'line_user_id must be "U" and 32 lowercase hex digits' },
    { line: 6, message: 'needs a line_user_id or a member_id' },
  ]);
  const again = await importCsv({ file, list: 'vip-2026', store });
  assert.deepEqual([again.inserted, again.unchanged], [0, 3], 'importing the same file twice changes nothing');
  const rows = await db.query<{ type: string; properties: { list: string } }>(
    `select type, properties from events order by id`,
  );
  assert.deepEqual(
    rows.map((r) => `${r.type} ${r.properties.list}`),
    ['list_added vip-2026', 'list_added vip-2026', 'list_added vip-2026'],
  );
  await db.close();
});

test('an events file: type, time, properties as JSON or prop_ columns', async () => {
  const { store, db } = await pgliteStore();
  const dir = await mkdtemp(join(tmpdir(), 'lsd-csv-'));
  const file = join(dir, 'events.csv');
  await writeFile(
    file,
    [
      'line_user_id,type,occurred_at,properties,prop_productName',
      `${U(1)},cart_abandoned,2026-11-25T10:00:00+09:00,"{""total"": 5000}",白いスニーカー`,
      `${U(2)},Purchased,2026-11-25T10:00:00+09:00,,`,
      `${U(3)},purchased,yesterday,,`,
      `${U(4)},purchased,2026-11-25T10:00:00Z,{broken,`,
    ].join('\n'),
  );
  const r = await importCsv({ file, store });
  assert.equal(r.inserted, 1);
  assert.deepEqual(
    r.errors.map((e) => e.line),
    [3, 4, 5],
  );
  assert.match(r.errors[0]!.message, /lower snake case/);
  assert.match(r.errors[1]!.message, /ISO date string with a time zone/);
  assert.match(r.errors[2]!.message, /not valid JSON/);
  const [row] = await db.query<{ properties: Record<string, unknown> }>(`select properties from events`);
  assert.deepEqual(row?.properties, { total: 5000, productName: '白いスニーカー' });
  assert.equal((await importCsv({ file, store })).inserted, 0);
  await db.close();
});

test("rows that ingest would set aside are refused by line, for the event contract's reason, quoting no value", async () => {
  const { store, db } = await pgliteStore();
  const dir = await mkdtemp(join(tmpdir(), 'lsd-csv-'));
  const file = join(dir, 'events.csv');
  const now = Date.parse('2026-11-25T12:00:00Z');
  await writeFile(
    file,
    [
      'line_user_id,member_id,type,occurred_at,properties,idempotency_key',
      `${U(1)},,purchased,2026-11-25T10:00:00+09:00,,`,
      `${U(2)},,purchased,1970-01-01T00:00:00Z,,`,
      `${U(3)},,purchased,2026-11-28T10:00:00+09:00,,`,
      `,${'m'.repeat(201)},purchased,,,`,
      `${U(5)},,list_added,,"{""name"": ""secret-list""}",`,
      `${U(6)},,profile_updated,,"{""attributes"": {""address"": {""city"": ""secret-city""}}}",`,
      `${U(7)},,viewed,,"{""note"": ""${'x'.repeat(4001)}""}",`,
      `${U(8)},,viewed,,,${'k'.repeat(201)}`,
    ].join('\n'),
  );
  const r = await importCsv({ file, store, now });
  assert.equal(r.inserted, 1);
  assert.deepEqual(r.errors, [
    { line: 3, message: 'occurred_at is before 2000-01-01: check the date (year 1 or 1970 is an empty or zero date)' },
    { line: 4, message: 'occurred_at is more than a day after now: check the clock, the time zone or the unit' },
    { line: 5, message: 'member_id must be a string of 1 to 200 characters or a whole number' },
    { line: 6, message: 'list_added: list is missing' },
    {
      line: 7,
      message:
        'profile_updated: attributes.address must be a string, a number, true/false, null or a list of those, got an object',
    },
    { line: 8, message: 'properties.note is longer than 4000 characters' },
    { line: 9, message: 'idempotency_key must be a string of 1 to 200 characters' },
  ]);
  assert.doesNotMatch(JSON.stringify(r.errors), /secret|mmmm/);
  await db.close();
});
