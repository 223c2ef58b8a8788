// The rows the hooks write into public.events (the data contract), and where they go.
import { MAX_BODY_BYTES } from './event-contract.ts';

export interface EventRow {
  line_user_id?: string | null;
  member_id?: string | null;
  type: string;
  properties: Record<string, unknown>;
  /** ISO timestamp. */
  occurred_at: string;
  source: string;
  /** A redelivered webhook has the same key: the second insert is skipped. */
  idempotency_key: string;
  /** Only for an event recorded set aside (never taken in), with the reason; otherwise new. */
  status?: 'set_aside';
  status_reason?: string;
}

/**
 * Inserts events, skipping rows whose idempotency key exists. Returns how many were new.
 * Throws a SinkError when the database refuses the statement.
 */
export interface EventSink {
  insert(rows: EventRow[]): Promise<number>;
}

/** The database refused an insert: only its SQLSTATE is kept (a message can quote the values). */
export class SinkError extends Error {
  constructor(readonly code: string) {
    super(`events insert failed (SQLSTATE ${code})`);
  }
}

/** Reads the raw body, refusing more than max bytes (whatever Content-Length says). */
export async function readBody(req: Request, max = MAX_BODY_BYTES): Promise<Uint8Array | 'too large'> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > max) return 'too large';
  const reader = req.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return 'too large';
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.length;
  }
  return body;
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
