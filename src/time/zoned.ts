// Wall-clock time in an IANA zone, with no library: Intl gives the UTC offset of a zone
// at an instant; everything else is arithmetic on "shifted" UTC dates. Offsets are cached
// per 15-minute bucket, since every zone changes offset only on such a boundary, which
// keeps the planner fast (Intl's formatter costs microseconds a call).

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const BUCKET = 15 * MINUTE;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function knownTimeZones(): string[] {
  return Intl.supportedValuesOf('timeZone');
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Minutes to add to UTC to get the zone's wall clock at this instant (Tokyo: +540). */
export function offsetMinutes(tz: string, instant: number): number {
  const bucket = Math.floor(instant / BUCKET);
  let perZone = offsetCache.get(tz);
  if (!perZone) {
    perZone = new Map();
    offsetCache.set(tz, perZone);
  }
  const cached = perZone.get(bucket);
  if (cached !== undefined) return cached;
  const at = bucket * BUCKET;
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = Math.round((wall - at) / MINUTE);
  if (perZone.size > 100_000) perZone.clear();
  perZone.set(bucket, offset);
  return offset;
}

export interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  /** 0 = Monday ... 6 = Sunday */
  weekday: number;
  /** Minutes since local midnight. */
  minuteOfDay: number;
}

export function localParts(instant: number, tz: string): LocalParts {
  const shifted = new Date(instant + offsetMinutes(tz, instant) * MINUTE);
  const hour = shifted.getUTCHours();
  const minute = shifted.getUTCMinutes();
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour,
    minute,
    weekday: (shifted.getUTCDay() + 6) % 7,
    minuteOfDay: hour * 60 + minute,
  };
}

/**
 * The instant at which the zone's clock shows this wall time. A wall time that does not
 * exist (skipped by a DST jump) moves forward by the gap, as a person would; one that
 * occurs twice (clocks turned back) resolves to the earlier instant.
 */
export function localToInstant(tz: string, year: number, month: number, day: number, hour: number, minute: number): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = wall - offsetMinutes(tz, wall - DAY) * MINUTE;
  const after = wall - offsetMinutes(tz, wall + DAY) * MINUTE;
  // Prefer the earlier reading when both are valid (overlap).
  for (const guess of [Math.min(before, after), Math.max(before, after)]) {
    if (guess + offsetMinutes(tz, guess) * MINUTE === wall) return guess;
  }
  // A gap: the wall time never shows; take the pre-transition offset, which lands after the jump.
  return wall - offsetMinutes(tz, wall - DAY) * MINUTE;
}

/** The same local time of day, `days` calendar days later (DST-safe). */
export function addLocalDays(instant: number, days: number, tz: string): number {
  const p = localParts(instant, tz);
  return localToInstant(tz, p.year, p.month, p.day + days, p.hour, p.minute) + (instant % MINUTE);
}

/** The local calendar day `days` after this instant's, at hh:mm. */
export function atLocalTime(instant: number, days: number, hhmm: number, tz: string): number {
  const p = localParts(instant, tz);
  return localToInstant(tz, p.year, p.month, p.day + days, Math.floor(hhmm / 60), hhmm % 60);
}

export function parseHhMm(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

export function formatHhMm(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

/** "2026-11-25 10:00" in the zone. */
export function formatLocal(instant: number, tz: string): string {
  const p = localParts(instant, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')} ${formatHhMm(p.minuteOfDay)}`;
}
