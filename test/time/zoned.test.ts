import { test } from 'vitest';
import assert from 'node:assert/strict';
import {
  addLocalDays,
  atLocalTime,
  formatLocal,
  localParts,
  localToInstant,
  offsetMinutes,
} from '../../src/time/zoned.js';
import { applyWindow, stepMoment } from '../../src/planner/timing.js';

const iso = (s: string) => Date.parse(s);

test('offsets: Tokyo has none of DST, New York switches', () => {
  assert.equal(offsetMinutes('Asia/Tokyo', iso('2026-07-01T00:00:00Z')), 540);
  assert.equal(offsetMinutes('America/New_York', iso('2026-01-15T12:00:00Z')), -300);
  assert.equal(offsetMinutes('America/New_York', iso('2026-07-15T12:00:00Z')), -240);
  assert.equal(offsetMinutes('Australia/Lord_Howe', iso('2026-01-15T12:00:00Z')), 660);
});

test('a wall time skipped by DST moves forward by the gap; a repeated one takes the earlier instant', () => {
  // 2026-03-08 02:30 does not exist in New York (02:00 -> 03:00).
  assert.equal(
    new Date(localToInstant('America/New_York', 2026, 3, 8, 2, 30)).toISOString(),
    '2026-03-08T07:30:00.000Z',
  );
  // 2026-11-01 01:30 happens twice; the first is EDT (UTC-4).
  assert.equal(
    new Date(localToInstant('America/New_York', 2026, 11, 1, 1, 30)).toISOString(),
    '2026-11-01T05:30:00.000Z',
  );
});

test('adding local days keeps the wall time across DST and month ends', () => {
  const before = localToInstant('America/New_York', 2026, 3, 7, 10, 0);
  assert.equal(formatLocal(addLocalDays(before, 1, 'America/New_York'), 'America/New_York'), '2026-03-08 10:00');
  assert.equal(addLocalDays(before, 1, 'America/New_York') - before, 23 * 3600_000, 'that day has 23 hours');
  const jan31 = localToInstant('Asia/Tokyo', 2026, 1, 31, 23, 0);
  assert.equal(formatLocal(atLocalTime(jan31, 1, 10 * 60, 'Asia/Tokyo'), 'Asia/Tokyo'), '2026-02-01 10:00');
  assert.equal(
    formatLocal(atLocalTime(localToInstant('Asia/Tokyo', 2028, 2, 28, 9, 0), 1, 600, 'Asia/Tokyo'), 'Asia/Tokyo'),
    '2028-02-29 10:00',
  );
  assert.equal(localParts(iso('2026-11-23T00:00:00Z'), 'Asia/Tokyo').weekday, 0, 'a Monday in Tokyo');
});

const tz = 'Asia/Tokyo';
const ctx = (previousAt: number, trigger: Record<string, unknown> = {}) => ({
  previousAt,
  enteredAt: previousAt,
  trigger,
  tz,
});

test('"n days later at HH:MM" is the local calendar day, at that time', () => {
  const entered = localToInstant(tz, 2026, 11, 25, 23, 50);
  const m = stepMoment({ after: { days: 3 }, at: '10:00' }, ctx(entered));
  assert.ok('at' in m);
  assert.equal(formatLocal(m.at, tz), '2026-11-28 10:00');
  const sameDay = stepMoment({ after: { days: 0 }, at: '10:00' }, ctx(localToInstant(tz, 2026, 11, 25, 8, 0)));
  assert.ok('at' in sameDay);
  assert.equal(formatLocal(sameDay.at, tz), '2026-11-25 10:00', 'today, when 10:00 is still ahead');
  const passed = stepMoment({ after: { days: 0 }, at: '10:00' }, ctx(localToInstant(tz, 2026, 11, 25, 11, 0)));
  assert.ok('at' in passed);
  assert.equal(formatLocal(passed.at, tz), '2026-11-26 10:00', 'tomorrow, when 10:00 has passed');
});

test('offsets before and after a date carried by the trigger', () => {
  const trigger = { reservationAt: '2026-12-05T15:00:00+09:00' };
  const before = stepMoment({ before: { hours: 24 }, from: 'trigger.reservationAt' }, ctx(0, trigger));
  assert.ok('at' in before);
  assert.equal(formatLocal(before.at, tz), '2026-12-04 15:00');
  const after = stepMoment({ after: { days: 1 }, from: 'trigger.reservationAt', at: '19:00' }, ctx(0, trigger));
  assert.ok('at' in after);
  assert.equal(formatLocal(after.at, tz), '2026-12-06 19:00');
  const missing = stepMoment({ before: { hours: 24 }, from: 'trigger.reservationAt' }, ctx(0, {}));
  assert.deepEqual(missing, { error: 'the trigger has no date in "reservationAt"' });
});

test('the send window defers to the next opening, on allowed days only', () => {
  const window = { start: '09:00', end: '21:00' };
  assert.equal(formatLocal(applyWindow(localToInstant(tz, 2026, 11, 25, 22, 30), window, tz), tz), '2026-11-26 09:00');
  assert.equal(formatLocal(applyWindow(localToInstant(tz, 2026, 11, 25, 6, 0), window, tz), tz), '2026-11-25 09:00');
  const inside = localToInstant(tz, 2026, 11, 25, 12, 34);
  assert.equal(applyWindow(inside, window, tz), inside);
  // Friday 22:00 with a weekday window: Monday 09:00.
  const weekdays = {
    start: '09:00',
    end: '18:00',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[],
  };
  assert.equal(formatLocal(applyWindow(localToInstant(tz, 2026, 11, 27, 22, 0), weekdays, tz), tz), '2026-11-30 09:00');
  assert.equal(formatLocal(applyWindow(localToInstant(tz, 2026, 11, 28, 12, 0), weekdays, tz), tz), '2026-11-30 09:00');
});
