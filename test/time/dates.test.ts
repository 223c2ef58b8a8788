// Trigger dates: with an offset as given, without one in the scenario's (or user's) zone,
// anything else a clear problem instead of an exception or a silently wrong instant.
import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTriggerDate } from '../../src/time/dates.js';
import { knownTimeZones } from '../../src/time/zoned.js';
import { stepMoment } from '../../src/planner/timing.js';

const instant = (value: unknown, zone = 'Asia/Tokyo') => {
  const r = parseTriggerDate(value, zone);
  assert.ok('at' in r, `expected a date, got: ${'problem' in r ? r.problem : ''}`);
  return new Date(r.at).toISOString();
};
const problem = (value: unknown) => {
  const r = parseTriggerDate(value, 'Asia/Tokyo');
  assert.ok('problem' in r, `expected a problem for ${String(value)}`);
  return r.problem;
};

test("a date-time without an offset is read in the given zone, not the machine's", () => {
  assert.equal(instant('2026-12-04T15:00:00'), '2026-12-04T06:00:00.000Z', 'Tokyo 15:00 is 06:00 UTC');
  assert.equal(instant('2026-12-04T15:00'), '2026-12-04T06:00:00.000Z');
  assert.equal(instant('2026-12-04 15:00:00'), '2026-12-04T06:00:00.000Z', 'a space instead of T (PostgreSQL text)');
  assert.equal(instant('2026-12-04T15:00:00', 'America/New_York'), '2026-12-04T20:00:00.000Z');
  assert.equal(instant('2026-12-04'), '2026-12-03T15:00:00.000Z', 'a bare date is local midnight');
  assert.equal(instant('2026-07-04', 'Europe/London'), '2026-07-03T23:00:00.000Z', 'midnight in British Summer Time');
});

test('with an offset or Z, the instant is as given, whatever the zone', () => {
  for (const zone of ['Asia/Tokyo', 'America/Los_Angeles', 'UTC']) {
    assert.equal(instant('2026-12-04T15:00:00+09:00', zone), '2026-12-04T06:00:00.000Z');
    assert.equal(instant('2026-12-04T06:00:00Z', zone), '2026-12-04T06:00:00.000Z');
  }
  assert.equal(instant('2026-12-04T15:00:00+0900'), '2026-12-04T06:00:00.000Z');
  assert.equal(instant('2026-12-04 15:00:00+09'), '2026-12-04T06:00:00.000Z', 'PostgreSQL writes +09');
  assert.equal(instant('2026-12-04T01:30:00-05:30'), '2026-12-04T07:00:00.000Z');
  assert.equal(
    instant('2026-12-04T15:00:00.123456+09:00'),
    '2026-12-04T06:00:00.123Z',
    'microseconds are cut to milliseconds',
  );
  assert.equal(instant(Date.parse('2026-12-04T06:00:00Z')), '2026-12-04T06:00:00.000Z', 'epoch milliseconds');
});

test('DST: a skipped wall time moves forward by the gap, a repeated one takes the earlier instant', () => {
  assert.equal(instant('2026-03-08T02:30:00', 'America/New_York'), '2026-03-08T07:30:00.000Z');
  assert.equal(instant('2026-11-01T01:30:00', 'America/New_York'), '2026-11-01T05:30:00.000Z');
});

test('anything else is a problem that says what is wrong, never an exception', () => {
  assert.match(problem(1e20), /beyond the year 9999/);
  assert.match(problem(1_764_831_600_000_000_000), /nanoseconds/);
  assert.match(problem(1_764_831_600), /seconds/);
  assert.match(problem(Number.NaN), /not finite/);
  assert.match(problem(Infinity), /not finite/);
  assert.match(problem('+012026-12-04T15:00:00Z'), /year beyond 9999/);
  assert.match(problem('10000-01-01'), /year beyond 9999/);
  assert.match(problem('1899-12-31'), /year before 1900/);
  assert.match(problem('2026-02-30'), /day that the month does not have/);
  assert.match(problem('2026-13-01'), /month/);
  assert.match(problem('2026-12-04T24:00:00'), /time of day/);
  assert.match(problem('2026-12-04T15:00:60'), /time of day/);
  assert.match(problem('2026-12-04T15:00:00+24:00'), /offset/);
  for (const text of ['tomorrow', '04/12/2026', '2026-12-04T15', '2026-12-04Z', '', 'Thu, 04 Dec 2026 06:00:00 GMT'])
    assert.match(problem(text), /not an ISO 8601 date/);
  assert.match(problem(null), /type null/);
  assert.match(problem(true), /type boolean/);
  assert.match(problem({ at: 1 }), /type object/);
  assert.match(problem(['2026-12-04']), /type array/);
  assert.equal(problem(1e20).includes('1e+20'), false, 'the value itself is not repeated (logs are public)');
});

test('a step counted from a bad date fails with the property and the expected form', () => {
  const ctx = (value: unknown) => ({
    previousAt: 0,
    enteredAt: 0,
    trigger: { reservationAt: value },
    tz: 'Asia/Tokyo',
  });
  const wait = { before: { hours: 24 }, from: 'trigger.reservationAt' };
  assert.deepEqual(stepMoment(wait, ctx('2026-12-05')), {
    at: Date.parse('2026-12-03T15:00:00Z'),
    countedBackFrom: Date.parse('2026-12-04T15:00:00Z'),
  });
  assert.deepEqual(stepMoment(wait, ctx(1e20)), {
    error:
      'trigger.reservationAt is not a date (a number beyond the year 9999 as epoch milliseconds: micro- or nanoseconds?): expected ISO 8601 like 2026-12-04T15:00:00+09:00 (or 2026-12-04, or epoch milliseconds)',
  });
  assert.match(
    (stepMoment(wait, ctx({})) as { error: string }).error,
    /^trigger\.reservationAt is not a date \(a value of type object\)/,
  );
});

// ---- property: a zone-less wall time against Intl, in every zone, at DST edges ----

const intlParts = new Map<string, Intl.DateTimeFormat>();
/** The zone's wall clock at an instant, as "YYYY-MM-DDTHH:MM:SS", straight from Intl. */
function wallClock(zone: string, at: number): string {
  let f = intlParts.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    intlParts.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}
/** Wall-clock text read as if it were UTC: a number to do arithmetic on. */
const wallMs = (text: string) => Date.parse(`${text}Z`);

/** The first instant after `from` (within a year) at which the zone's offset changes, to the minute. */
function nextTransition(zone: string, from: number): number | undefined {
  const offset = (t: number) => wallMs(wallClock(zone, t)) - Math.floor(t / 1000) * 1000;
  let lo = from;
  for (let hi = from + 86_400_000; hi < from + 366 * 86_400_000; lo = hi, hi += 86_400_000) {
    if (offset(hi) === offset(lo)) continue;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000;
      if (offset(mid) === offset(lo)) lo = mid;
      else hi = mid;
    }
    return hi;
  }
  return undefined;
}

const zones = knownTimeZones();
const edgeZones = [
  'America/New_York',
  'Europe/London',
  'Europe/Dublin',
  'Australia/Lord_Howe',
  'America/Santiago',
  'America/Havana',
  'Asia/Beirut',
  'Pacific/Chatham',
  'America/St_Johns',
  'Africa/Casablanca',
  'Antarctica/Troll',
];
const caseArb = fc.record({
  zone: fc.oneof(fc.constantFrom(...zones), fc.constantFrom(...edgeZones.filter((z) => zones.includes(z)))),
  start: fc.integer({ min: Date.UTC(1980, 0, 1), max: Date.UTC(2045, 0, 1) }),
  nearTransition: fc.boolean(),
  shiftMinutes: fc.integer({ min: -240, max: 240 }),
  second: fc.integer({ min: 0, max: 59 }),
});

propTest.prop([caseArb], { numRuns: 400 })(
  'property: a zone-less date-time is the instant at which Intl shows that wall time',
  ({ zone, start, nearTransition, shiftMinutes, second }) => {
    const around = nearTransition ? (nextTransition(zone, start) ?? start) : start;
    // A wall time near `around`: seconds set, so it is a real date-time anyone could write.
    const wall = new Date(
      Math.floor((wallMs(wallClock(zone, around)) + shiftMinutes * 60_000) / 60_000) * 60_000 + second * 1000,
    )
      .toISOString()
      .slice(0, 19);
    const parsed = parseTriggerDate(wall, zone);
    assert.ok('at' in parsed);
    // Every instant that shows this wall time: one per offset the zone has within a day of it.
    const offsets = new Set<number>();
    for (let h = -36; h <= 36; h++) {
      const t = wallMs(wall) + h * 3_600_000;
      offsets.add(wallMs(wallClock(zone, t)) - t);
    }
    const showing = [...offsets]
      .map((o) => wallMs(wall) - o)
      .filter((t) => wallClock(zone, t) === wall)
      .sort((a, b) => a - b);
    if (showing.length) {
      assert.equal(parsed.at, showing[0], `${wall} in ${zone}: the earliest instant showing it`);
    } else {
      // Skipped by a jump forward: it lands that much after the jump, as a person moves a clock.
      const offsetAt = (t: number) => wallMs(wallClock(zone, t)) - t;
      const jump = offsetAt(parsed.at) - offsetAt(parsed.at - 6 * 3_600_000);
      assert.ok(
        jump > 0,
        `${wall} in ${zone} does not exist, yet no jump forward precedes ${wallClock(zone, parsed.at)}`,
      );
      assert.equal(
        wallMs(wallClock(zone, parsed.at)) - wallMs(wall),
        jump,
        `${wall} in ${zone} moves forward by the gap`,
      );
    }
  },
);

propTest.prop(
  [fc.integer({ min: Date.UTC(1980, 0, 1), max: Date.UTC(9999, 11, 30) }), fc.integer({ min: -14 * 60, max: 14 * 60 })],
  { numRuns: 300 },
)('property: a date-time with an offset is the instant Date.parse gives', (at, offsetMinutes) => {
  const local = new Date(at + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const text = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  const parsed = parseTriggerDate(text, 'Asia/Tokyo');
  assert.ok('at' in parsed);
  assert.equal(parsed.at, Date.parse(text));
  assert.equal(parsed.at, at);
});

propTest.prop([fc.anything()], { numRuns: 300 })('property: parsing never throws, whatever the value', (value) => {
  const r = parseTriggerDate(value, 'Asia/Tokyo');
  assert.ok('at' in r ? Number.isFinite(r.at) : r.problem.length > 0);
});
