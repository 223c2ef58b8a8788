// Error texts for public places (the Actions log, the job summary, an alert issue, a
// status_reason): they say what went wrong, never with whose data. PostgreSQL quotes the
// offending value in its messages (invalid input syntax for type boolean: "yes"), and a
// runtime error raised while handling one user's data can quote it too: quoted parts go.

/** An error the database raised: it has a SQLSTATE (pg, PGlite and PostgREST all give one). */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The text with every quoted part ("…", '…', `…`) replaced by an ellipsis, on one line, at most `max` characters. */
export function withoutQuotedValues(text: string, max = 300): string {
  const oneLine = text
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, (q) => `${q[0]}…${q[0]}`)
    .replace(/\s+/g, ' ')
    .trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/**
 * What to print when a whole run fails. The engine's own errors (a scenario problem, a
 * configuration to fix) are kept as written; a database error loses its quoted values.
 */
export function publicErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlState(error);
  if (state === undefined) return message;
  return `${withoutQuotedValues(message)} (SQLSTATE ${state}; values in the database's message are not shown)`;
}

/**
 * Why handling one event or one enrollment threw, for its record and the summary: the kind
 * of error and its message without quoted parts (a message can quote the data it choked on).
 */
export function failureReason(error: unknown): string {
  if (!(error instanceof Error)) return 'an unexpected error';
  const state = sqlState(error);
  return `${error.name}: ${withoutQuotedValues(error.message, 200)}${state ? ` (SQLSTATE ${state})` : ''}`;
}
