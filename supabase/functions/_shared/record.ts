// Records rows so that one row the database refuses does not lose the others beside it.
import { type EventRow, type EventSink, SinkError } from './events.ts';

export interface RecordOutcome {
  recorded: number;
  duplicates: number;
  /** Rows the database refused, by their index in the rows given, with the reason. */
  refused: { row: number; reason: string }[];
}

/** SQLSTATE classes that are about one row's data (22: data exception, 23: constraint, 54: limit). */
function isRowProblem(error: unknown): error is SinkError {
  return error instanceof SinkError && /^(22|23|54)/.test(error.code);
}

/**
 * Inserts all rows in one statement; when the database refuses it for a row's data, inserts
 * them one by one and refuses only the rows it will not take. Anything else (the database
 * unreachable, a wrong key) is thrown: the caller answers 5xx so the sender retries, which
 * idempotency keys make safe.
 */
export async function recordEach(sink: EventSink, rows: EventRow[]): Promise<RecordOutcome> {
  if (!rows.length) return { recorded: 0, duplicates: 0, refused: [] };
  try {
    const recorded = await sink.insert(rows);
    return { recorded, duplicates: rows.length - recorded, refused: [] };
  } catch (error) {
    if (!isRowProblem(error)) throw error;
  }
  const outcome: RecordOutcome = { recorded: 0, duplicates: 0, refused: [] };
  for (const [i, row] of rows.entries()) {
    try {
      const recorded = await sink.insert([row]);
      outcome.recorded += recorded;
      outcome.duplicates += 1 - recorded;
    } catch (error) {
      if (!isRowProblem(error)) throw error;
      outcome.refused.push({ row: i, reason: `the database refused it (SQLSTATE ${error.code})` });
    }
  }
  return outcome;
}
