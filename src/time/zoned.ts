// Wall-clock time in an IANA zone, with no library: Intl gives the UTC offset of a zone
// at an instant; everything else is arithmetic on "shifted" UTC instants.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
// On a day with a transition, offsets are read per minute: most zones change on a quarter
// hour, but not all (St. John's changed at 00:01 local time until 2011).
const BUCKET = MINUTE;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offsets of one zone: per UTC day when the day has one offset, else per minute. */
interface ZoneOffsets {
  days: Map<number, number>;
  transitionDays: Set<number>;
  buckets: Map<number, number>;
}
const zones = new Map<string, ZoneOffsets>();
let lastZone = '';
let lastOffsets: ZoneOffsets | undefined;
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  let valid = zoneValidity.get(tz);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      valid = true;
    } catch {
      valid = false;
    }
    if (zoneValidity.size < 10_000) zoneValidity.set(tz, valid);
  }
  return valid;
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
function intlOffset(tz: string, at: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute, parts.second);
  return Math.round((wall - at) / MINUTE);
}

/**
 * Minutes to add to UTC to get the zone's wall clock at this instant (Tokyo: +540).
 * Cached per UTC day when the offset is the same at both ends of the day (no zone changes
 * offset twice in a day), else per minute (zones change on a whole minute), so the
 * planner rarely pays for Intl, which costs microseconds a call.
 */
export function offsetMinutes(tz: string, instant: number): number {
  let zone = lastZone === tz ? lastOffsets : zones.get(tz);
  if (!zone) {
    zone = { days: new Map(), transitionDays: new Set(), buckets: new Map() };
    zones.set(tz, zone);
  }
  lastZone = tz;
  lastOffsets = zone;
  const day = Math.floor(instant / DAY);
  const known = zone.days.get(day);
  if (known !== undefined) return known;
  if (!zone.transitionDays.has(day)) {
    const start = intlOffset(tz, day * DAY);
    if (start === intlOffset(tz, (day + 1) * DAY)) {
      if (zone.days.size > 100_000) zone.days.clear();
      zone.days.set(day, start);
      return start;
    }
    zone.transitionDays.add(day);
  }
  const bucket = Math.floor(instant / BUCKET);
  let offset = zone.buckets.get(bucket);
  if (offset === undefined) {
    offset = intlOffset(tz, bucket * BUCKET);
    if (zone.buckets.size > 100_000) zone.buckets.clear();
    zone.buckets.set(bucket, offset);
  }
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
  // Civil date from a day count (H. Hinnant's algorithm): no Date object in the hot path.
  const shifted = instant + offsetMinutes(tz, instant) * MINUTE;
  const days = Math.floor(shifted / DAY);
  const minuteOfDay = Math.floor((shifted - days * DAY) / MINUTE);
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
    hour: Math.floor(minuteOfDay / 60),
    minute: minuteOfDay % 60,
    weekday: (((days + 3) % 7) + 7) % 7, // 1970-01-01 was a Thursday
    minuteOfDay,
  };
}

/**
 * The instant at which the zone's clock shows this wall time. A wall time that does not
 * exist (skipped by a DST jump) moves forward by the gap, as a person would; one that
 * occurs twice (clocks turned back) resolves to the earlier instant.
 */
export function localToInstant(
  tz: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const offsetBefore = offsetMinutes(tz, wall - DAY);
  // No offset change within a day either side (the usual case): one reading settles it.
  if (offsetBefore === offsetMinutes(tz, wall + DAY)) return wall - offsetBefore * MINUTE;
  const before = wall - offsetBefore * MINUTE;
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

const hhmmCache = new Map<string, number>();

export function parseHhMm(text: string): number {
  let minutes = hhmmCache.get(text);
  if (minutes === undefined) {
    minutes = Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
    hhmmCache.set(text, minutes);
  }
  return minutes;
}

export function formatHhMm(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

/** "2026-11-25 10:00" in the zone. */
export function formatLocal(instant: number, tz: string): string {
  const p = localParts(instant, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')} ${formatHhMm(p.minuteOfDay)}`;
}
