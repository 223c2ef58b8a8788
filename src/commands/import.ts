// import: a CSV file into events, streamed. Either a list of users (line_user_id or
// member_id per row, with --list NAME: one list_added event each) or events (columns
// line_user_id|member_id, type, occurred_at, properties as JSON, or prop_<name> columns,
// idempotency_key). Every row gets an idempotency key, so a second import adds nothing.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse';
import type { Store } from '../store/store.js';
import type { NewEvent } from '../domain.js';
import { checkEvent } from '../contract/events.js';

export interface ImportOptions {
  file: string;
  /** A list name: the file is a list of users. */
  list?: string | undefined;
  store: Store;
  pageSize?: number;
  progress?: ((rows: number) => void) | undefined;
  /** The moment occurred_at is checked against (at most a day ahead); default now. */
  now?: number | undefined;
}

export interface ImportResult {
  rows: number;
  inserted: number;
  /** Already imported before (same idempotency key). */
  unchanged: number;
  errors: { line: number; message: string }[];
}

type Row = Record<string, string>;
const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** The properties of an events row: the properties column as a JSON object, plus prop_<name> columns. */
function rowProperties(row: Row): Record<string, unknown> | string {
  let properties: Record<string, unknown> = {};
  if (row.properties?.trim()) {
    try {
      const parsed: unknown = JSON.parse(row.properties);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'properties must be a JSON object';
      properties = parsed as Record<string, unknown>;
    } catch {
      return 'properties is not valid JSON';
    }
  }
  for (const [k, v] of Object.entries(row)) if (k.startsWith('prop_') && v !== '') properties[k.slice(5)] = v;
  return properties;
}

/** One CSV row as an event, checked against the event contract (src/contract), or what is wrong with it. */
function parseRow(row: Row, list: string | undefined, now: number): NewEvent | string {
  const lineUserId = row.line_user_id?.trim() || undefined;
  const memberId = row.member_id?.trim() || undefined;
  if (!lineUserId && !memberId) return 'needs a line_user_id or a member_id';
  const properties = list !== undefined ? { list } : rowProperties(row);
  if (typeof properties === 'string') return properties;
  const givenKey = list !== undefined ? undefined : row.idempotency_key?.trim() || undefined;
  const checked = checkEvent(
    {
      line_user_id: lineUserId,
      member_id: memberId,
      type: list !== undefined ? 'list_added' : (row.type?.trim() ?? ''),
      properties,
      occurred_at: list !== undefined ? undefined : row.occurred_at?.trim() || undefined,
      idempotency_key: givenKey,
    },
    now,
  );
  if ('problem' in checked) return checked.problem;
  const { type, occurred_at: occurredAt } = checked.event;
  const who = lineUserId ?? `member:${memberId}`;
  // Every row gets a key, so a second import of the same file adds nothing.
  const key =
    list !== undefined
      ? `list:${list}:${who}`
      : (givenKey ?? `csv:${sha256([who, type, occurredAt ?? null, properties]).slice(0, 32)}`);
  return {
    userId: lineUserId,
    memberId,
    type,
    properties,
    occurredAt,
    source: 'csv-import',
    idempotencyKey: key,
  };
}

/** Known columns in any case; prop_<name> keeps the property name's case. */
function columnName(header: string): string {
  const h = header.trim();
  return /^prop_/i.test(h) ? `prop_${h.slice(5)}` : h.toLowerCase();
}

export async function importCsv(options: ImportOptions): Promise<ImportResult> {
  const pageSize = options.pageSize ?? 1000;
  const now = options.now ?? Date.now();
  const result: ImportResult = { rows: 0, inserted: 0, unchanged: 0, errors: [] };
  const parser = createReadStream(options.file).pipe(
    parse({
      columns: (header: string[]) => header.map(columnName),
      bom: true,
      skip_empty_lines: true,
      trim: false,
      info: true,
    }),
  );
  let page: NewEvent[] = [];
  const flush = async () => {
    if (!page.length) return;
    const { inserted } = await options.store.insertEvents(page);
    result.inserted += inserted;
    result.unchanged += page.length - inserted;
    page = [];
    options.progress?.(result.rows);
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: Row; info: { lines: number } }>) {
    result.rows++;
    const parsed = parseRow(record, options.list, now);
    if (typeof parsed === 'string') {
      if (result.errors.length < 1000) result.errors.push({ line: info.lines, message: parsed });
      continue;
    }
    page.push(parsed);
    if (page.length >= pageSize) await flush();
  }
  await flush();
  return result;
}
