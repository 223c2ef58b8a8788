/** An instant given as epoch milliseconds or an ISO date with an offset; undefined if not given. */
export function parseNow(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t) || (!/^\d+$/.test(v) && !/(Z|[+-]\d\d:?\d\d)$/.test(v))) {
    throw new Error(
      `${name} must be an ISO date with a time zone (e.g. 2026-11-25T10:00:00+09:00) or epoch milliseconds, got "${v}"`,
    );
  }
  return t;
}
