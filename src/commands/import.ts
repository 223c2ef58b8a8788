// import: a CSV file into events, streamed. Either a list of users (line_user_id or
// member_id per row, with --list NAME: one list_added event each) or events (columns
// line_user_id|member_id, type, occurred_at, properties as JSON, or prop_<name> columns,
// idempotency_key). Every row gets an idempotency key, so a second import adds nothing.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse';
import type { Store } from '../store/store.js';

export interface ImportOptions {
  file: string;
  /** A list name: the file is a list of users. */
  list?: string | undefined;
  store: Store;
  pageSize?: number;
  progress?: ((rows: number) => void) | undefined;
}

export interface ImportResult {
  rows: number;
  inserted: number;
  /** Already imported before (same idempotency key). */
  unchanged: number;
  errors: { line: number; message: string }[];
}

const USER_ID = /^U[0-9a-f]{32}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

type Row = Record<string, string>;
type EventRow = Parameters<Store['insertEvents']>[0][number];

function parseRow(row: Row, list: string | undefined): EventRow | string {
  const lineUserId = row.line_user_id?.trim() || undefined;
  const memberId = row.member_id?.trim() || undefined;
  if (!lineUserId && !memberId) return 'needs a line_user_id or a member_id';
  if (lineUserId && !USER_ID.test(lineUserId)) return `line_user_id must be "U" and 32 hex digits`;
  const who = lineUserId ?? `member:${memberId}`;
  if (list !== undefined) {
    return { line_user_id: lineUserId, member_id: memberId, type: 'list_added', properties: { list }, source: 'csv-import', idempotency_key: `list:${list}:${who}` };
  }
  const type = row.type?.trim() ?? '';
  if (!EVENT_TYPE.test(type)) return `type "${type}" must be lower snake case, like cart_abandoned`;
  let occurredAt: number | undefined;
  if (row.occurred_at?.trim()) {
    occurredAt = Date.parse(row.occurred_at.trim());
    if (Number.isNaN(occurredAt) || !/(Z|[+-]\d\d:?\d\d)$/.test(row.occurred_at.trim())) return `occurred_at "${row.occurred_at}" must be an ISO date with a time zone, like 2026-11-25T10:00:00+09:00`;
  }
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
  const key = row.idempotency_key?.trim() || `csv:${createHash('sha256').update(JSON.stringify([who, type, occurredAt ?? null, properties])).digest('hex').slice(0, 32)}`;
  return { line_user_id: lineUserId, member_id: memberId, type, properties, occurred_at: occurredAt, source: 'csv-import', idempotency_key: key };
}

/** Known columns in any case; prop_<name> keeps the property name's case. */
function columnName(header: string): string {
  const h = header.trim();
  return /^prop_/i.test(h) ? `prop_${h.slice(5)}` : h.toLowerCase();
}

export async function importCsv(options: ImportOptions): Promise<ImportResult> {
  const pageSize = options.pageSize ?? 1000;
  const result: ImportResult = { rows: 0, inserted: 0, unchanged: 0, errors: [] };
  const parser = createReadStream(options.file).pipe(parse({ columns: (header: string[]) => header.map(columnName), bom: true, skip_empty_lines: true, trim: false, info: true }));
  let page: EventRow[] = [];
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
    const parsed = parseRow(record, options.list);
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
