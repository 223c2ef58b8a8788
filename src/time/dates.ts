// Dates carried by events (a reservation, a shipment): ISO 8601 text or epoch milliseconds.
// A date or date-time written without an offset is a wall time in the zone the caller
// gives (the scenario's, or the user's), never in the zone of the machine running the tick:
// GitHub's runners are on UTC, which would put a Tokyo "15:00" nine hours late.
import { localToInstant } from './zoned.js';

/** The instant, or what is wrong with the value (it never names the value: logs are public). */
export type ParsedDate = { at: number } | { problem: string };

/** What the error tells a person to write instead. */
export const DATE_EXAMPLE = 'expected ISO 8601 like 2026-12-04T15:00:00+09:00 (or 2026-12-04, or epoch milliseconds)';

/** Epoch milliseconds below this (March 1973) are refused: almost surely seconds. */
const MIN_EPOCH_MS = 100_000_000_000;
/** 9999-12-31T23:59:59.999Z: the last instant of a four-digit year. */
const MAX_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MIN_YEAR = 1900;

// date, then optionally [T or space] hh:mm[:ss[.fraction]] and an offset (Z, ±hh, ±hhmm, ±hh:mm).
const ISO =
  /^([+-]?\d{4,6})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;
}

/** Minutes east of UTC written as Z, ±hh, ±hhmm or ±hh:mm; undefined when out of range. */
function offsetOf(text: string): number | undefined {
  if (text === 'Z' || text === 'z') return 0;
  const digits = text.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (text[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function parseNumber(value: number): ParsedDate {
  if (!Number.isFinite(value)) return { problem: 'a number that is not finite' };
  if (value < MIN_EPOCH_MS) return { problem: 'a number before 1973 as epoch milliseconds: seconds?' };
  if (value > MAX_EPOCH_MS)
    return { problem: 'a number beyond the year 9999 as epoch milliseconds: micro- or nanoseconds?' };
  return { at: Math.floor(value) };
}

function parseText(text: string, zone: string): ParsedDate {
  const m = ISO.exec(text.trim());
  if (!m) return { problem: 'text that is not an ISO 8601 date' };
  const [, y, mo, d, h, mi, s, fraction, offset] = m;
  const year = Number(y);
  if (y!.length !== 4)
    return { problem: Math.abs(year) > 9999 ? 'a year beyond 9999' : 'a signed year: write four digits' };
  if (year < MIN_YEAR) return { problem: `a year before ${MIN_YEAR}` };
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return { problem: 'a month outside 01-12' };
  if (day < 1 || day > daysInMonth(year, month)) return { problem: 'a day that the month does not have' };
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return { problem: 'a time of day outside 00:00:00-23:59:59' };
  const ms = Number((fraction ?? '').slice(0, 3).padEnd(3, '0'));
  if (offset === undefined) {
    // A wall time in the zone: skipped by DST, it moves forward by the gap; repeated, the earlier.
    return { at: localToInstant(zone, year, month, day, hour, minute) + second * 1000 + ms };
  }
  const east = offsetOf(offset);
  if (east === undefined) return { problem: 'an offset beyond ±23:59' };
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  return { at: utc.getTime() - east * 60_000 };
}

/**
 * A date carried by a trigger: "2026-12-04T15:00:00+09:00" or "…Z" as given; "2026-12-04T15:00"
 * or "2026-12-04" (midnight) read in `zone`; a number is epoch milliseconds. Never throws.
 */
export function parseTriggerDate(value: unknown, zone: string): ParsedDate {
  if (typeof value === 'number') return parseNumber(value);
  if (typeof value === 'string') return parseText(value, zone);
  return { problem: `a value of type ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}` };
}
