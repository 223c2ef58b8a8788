// src/time/zoned.ts against Intl, over random instants and zones and around DST changes:
// the offset of an instant, the wall time of an instant, and wall time back to an instant
// (a skipped wall time moves forward by the gap; a repeated one takes the earlier instant).
// Intl is read here another way than zoned.ts reads it (the zone's offset by name,
// "GMT+09:00"), and transitions are found by searching Intl, not by zoned.ts.
import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DAY, MINUTE, knownTimeZones, localParts, localToInstant, offsetMinutes } from '../../src/time/zoned.js';

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** Intl's UTC offset of the zone at an instant, in minutes, from its "GMT+05:45" name. */
function intlOffset(tz: string, at: number): number {
  let format = offsetFormats.get(tz);
  if (!format)
    offsetFormats.set(tz, (format = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })));
  const name = format.formatToParts(at).find((p) => p.type === 'timeZoneName')!.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  assert.ok(m, `unexpected offset name ${name} in ${tz}`);
  return m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

/** Intl's wall clock of the zone at an instant. */
function intlWall(tz: string, at: number): Wall {
  let format = wallFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    wallFormats.set(tz, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday!),
  };
}
/** A wall time as if it were UTC, to compare and subtract wall times. */
const wallMs = (w: Omit<Wall, 'weekday'>) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);

// Zones with DST and the odd ones: 30-minute DST (Lord Howe), 2-hour DST (Troll), negative
// DST (Dublin), changes at midnight (Havana, Santiago), a skipped day (Apia, 2011), Ramadan
// changes (Casablanca), DST abolished (Tehran 2022, Sao Paulo 2019), 45-minute offsets.
const DST_ZONES = [
  'America/New_York',
  'Europe/London',
  'Europe/Dublin',
  'Australia/Lord_Howe',
  'Antarctica/Troll',
  'America/Havana',
  'America/Santiago',
  'Pacific/Apia',
  'Africa/Casablanca',
  'Asia/Tehran',
  'America/Sao_Paulo',
  'Pacific/Chatham',
  'America/St_Johns',
  'Australia/Adelaide',
  'Asia/Gaza',
];
const FROM = Date.UTC(1980, 0, 1);
const TO = Date.UTC(2038, 0, 1);

/** The zone's offset changes between FROM and TO, to the minute, found by searching Intl day by day. */
function transitions(tz: string): number[] {
  const found: number[] = [];
  let previous = intlOffset(tz, FROM);
  for (let day = FROM + DAY; day <= TO; day += DAY) {
    const offset = intlOffset(tz, day);
    if (offset === previous) continue;
    let [lo, hi] = [day - DAY, day]; // offset(lo) = previous, offset(hi) = offset
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (intlOffset(tz, mid) === previous) lo = mid;
      else hi = mid;
    }
    found.push(hi);
    previous = offset;
  }
  return found;
}
const EDGES = DST_ZONES.flatMap((tz) => transitions(tz).map((at) => ({ tz, at })));

const anyZone = fc.constantFrom(...knownTimeZones());
const anyInstant = fc.integer({ min: FROM, max: TO });
/** An instant within three hours of an offset change, to the second. */
const nearEdge = fc
  .tuple(fc.constantFrom(...EDGES), fc.integer({ min: -3 * 3600, max: 3 * 3600 }))
  .map(([edge, seconds]) => ({ tz: edge.tz, at: edge.at + seconds * 1000 }));
const zoneAndInstant = fc.oneof(fc.record({ tz: anyZone, at: anyInstant }), nearEdge);

test('the DST zones have offset changes to test around', () => {
  assert.ok(EDGES.length > 500, `${EDGES.length} changes found`);
  assert.ok(
    EDGES.some((e) => e.tz === 'Pacific/Apia' && e.at === Date.UTC(2011, 11, 30, 10)),
    'Apia skipped 2011-12-30',
  );
});

propTest.prop([zoneAndInstant], { numRuns: 1000 })("the offset of an instant is Intl's", ({ tz, at }) => {
  assert.equal(offsetMinutes(tz, at), intlOffset(tz, at), `${tz} at ${new Date(at).toISOString()}`);
});

propTest.prop([zoneAndInstant], { numRuns: 1000 })(
  "the wall time of an instant is Intl's, weekday included",
  ({ tz, at }) => {
    const p = localParts(at, tz);
    const wall = intlWall(tz, at);
    assert.deepEqual(
      { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, weekday: p.weekday },
      wall,
      `${tz} at ${new Date(at).toISOString()}`,
    );
    assert.equal(p.minuteOfDay, wall.hour * 60 + wall.minute);
  },
);

propTest.prop([zoneAndInstant], { numRuns: 1000 })(
  "an instant's wall time goes back to that instant, or to the earlier one when the clock showed it twice",
  ({ tz, at }) => {
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const w = intlWall(tz, minute);
    const back = localToInstant(tz, w.year, w.month, w.day, w.hour, w.minute);
    const where = `${tz} ${new Date(wallMs(w)).toISOString().slice(0, 16)} local (from ${new Date(minute).toISOString()})`;
    assert.deepEqual(intlWall(tz, back), w, `${where}: the instant shows another wall time`);
    assert.ok(back <= minute, `${where}: a later instant than the one that showed it`);
    // Nothing earlier shows it: a repeat lies one offset change back (30 minutes to 2 hours; a day in Apia).
    for (const step of [30, 60, 120, 180, 24 * 60]) {
      const earlier = back - step * MINUTE;
      assert.notDeepEqual(intlWall(tz, earlier), w, `${where}: an earlier instant shows it too`);
    }
  },
);

/** A wall time near an offset change (often in its gap or its overlap), minute by minute. */
const wallNearEdge = fc.tuple(fc.constantFrom(...EDGES), fc.integer({ min: -150, max: 150 })).map(([edge, minutes]) => {
  const before = intlWall(edge.tz, edge.at - MINUTE);
  const wall = wallMs(before) + (minutes + 1) * MINUTE;
  const d = new Date(wall);
  return {
    tz: edge.tz,
    wall,
    parts: [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()] as const,
  };
});
const anyWall = fc.record({ tz: anyZone, at: anyInstant }).map(({ tz, at }) => {
  const d = new Date(Math.floor(at / MINUTE) * MINUTE);
  return {
    tz,
    wall: d.getTime(),
    parts: [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()] as const,
  };
});

propTest.prop([fc.oneof(wallNearEdge, anyWall)], { numRuns: 1000 })(
  'a wall time becomes the earliest instant that shows it, or, skipped by a change, moves forward by the gap',
  ({ tz, wall, parts }) => {
    const at = localToInstant(tz, ...parts);
    const where = `${tz} ${new Date(wall).toISOString().slice(0, 16)} local`;
    // The instants that could show this wall time: one per offset in force within a day of it.
    const offsets = new Set([
      intlOffset(tz, wall - DAY),
      intlOffset(tz, wall - DAY / 2),
      intlOffset(tz, wall),
      intlOffset(tz, wall + DAY / 2),
      intlOffset(tz, wall + DAY),
    ]);
    const showing = [...offsets].map((o) => wall - o * MINUTE).filter((c) => wallMs(intlWall(tz, c)) === wall);
    if (showing.length) {
      assert.equal(at, Math.min(...showing), `${where}: not the earliest instant that shows it`);
      return;
    }
    // Skipped: the clock jumped over it, and the instant is as far past the jump as the wall time was.
    const shown = wallMs(intlWall(tz, at));
    const gap = intlOffset(tz, at) - intlOffset(tz, at - DAY);
    assert.ok(gap > 0, `${where}: not shown by any instant, yet no forward jump before ${new Date(at).toISOString()}`);
    assert.equal(
      shown - wall,
      gap * MINUTE,
      `${where}: moved by ${(shown - wall) / MINUTE} minutes, the gap is ${gap}`,
    );
  },
);
