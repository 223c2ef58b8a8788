// What people read of lateness: the job summary's table per day, the alert when today's p95
// passes lateness-alert-seconds, the period report's section with this month's minutes.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { LatenessDay } from '../../src/domain.js';
import {
  clockHtml,
  clockMarkdown,
  formatSeconds,
  latenessAlertReason,
  latenessSection,
  parseLatenessAlertSeconds,
} from '../../src/report/lateness.js';

const now = Date.UTC(2026, 11, 7, 3, 0); // 12:00 in Tokyo, 2026-12-07
const days: LatenessDay[] = [
  { day: '2026-12-06', runs: 200, served: 2100, p50: 40, p95: 900, max: 4000 },
  { day: '2026-12-07', runs: 80, served: 700, p50: 35, p95: 95.3, max: 380 },
];

test("the alert opens when today's p95 passes the threshold, and only today's counts", () => {
  assert.equal(latenessAlertReason(days, undefined, now), undefined, 'no threshold, no alert');
  assert.equal(latenessAlertReason(days, 120, now), undefined, "yesterday's 900 s does not keep it open");
  const reason = latenessAlertReason(days, 60, now);
  assert.match(reason ?? '', /p95 95 s, max 6\.3 min over 700 step\(s\), past lateness-alert-seconds 60/);
  assert.match(reason ?? '', /dispatcher setup/);
  // Nothing sent today yet: nothing to alert on.
  assert.equal(latenessAlertReason(days.slice(0, 1), 60, now), undefined);
});

test('the job summary shows p50, p95 and max per day, newest first', () => {
  const text = latenessSection(days).join('\n');
  const rows = text.split('\n').filter((l) => l.startsWith('| 2026'));
  assert.deepEqual(rows, [
    '| 2026-12-07 | 80 | 700 | 35 s | 95 s | 6.3 min |',
    '| 2026-12-06 | 200 | 2100 | 40 s | 15.0 min | 66.7 min |',
  ]);
  assert.deepEqual(latenessSection([]), []);
  assert.equal(formatSeconds(7200), '2.0 h');
});

test("the report's section: this month's runs and billed minutes against the budget, and lateness per day", () => {
  const md = clockMarkdown({ lateness: days, month: { runs: 412, billedMinutes: 431, budgetMinutes: 2000 } });
  assert.match(md, /412 run\(s\), 431 billed Actions minute\(s\) of a budget of 2,000 \(22%\)/);
  assert.match(md, /\| 2026-12-07 \| 80 \| 700 \| 35 s \| 95 s \| 6\.3 min \|/);
  const noBudget = clockMarkdown({ lateness: [], month: { runs: 3, billedMinutes: 3, budgetMinutes: null } });
  assert.match(noBudget, /3 billed Actions minute\(s\) \(no budget set\)/);
  assert.match(noBudget, /No step was sent in this period/);
  const html = clockHtml({ lateness: days });
  assert.match(
    html,
    /<tr><td>2026-12-07<\/td><td>80<\/td><td>700<\/td><td>35 s<\/td><td>95 s<\/td><td>6\.3 min<\/td><\/tr>/,
  );
});

test('lateness-alert-seconds: empty is none; a bad value says what to write', () => {
  assert.equal(parseLatenessAlertSeconds(''), undefined);
  assert.equal(parseLatenessAlertSeconds(' 300 '), 300);
  assert.throws(
    () => parseLatenessAlertSeconds('5m'),
    /lateness-alert-seconds "5m" is not a positive number of seconds: write e\.g\. 300/,
  );
});
