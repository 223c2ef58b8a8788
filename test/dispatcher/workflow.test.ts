// The safety net (issue 28 item 4): the example workflow keeps a sparse schedule off the top
// of the hour beside workflow_dispatch, and the dispatcher's default inputs are ones the
// workflow takes (a dispatched run sends).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const yml = readFileSync('examples/workflows/step-delivery.yml', 'utf8');

test('step-delivery.yml: hourly off the top of the hour, and workflow_dispatch taking run-mode send', () => {
  const crons = [...yml.matchAll(/- cron: '([^']+)'/g)].map((m) => m[1]!);
  const tick = crons.filter((c) => !c.endsWith('* * 1')); // the weekly keepalive aside
  assert.equal(tick.length, 1, crons.join(' | '));
  const [minute, hour] = tick[0]!.split(' ');
  assert.ok(
    /^\d+$/.test(minute!) && Number(minute) >= 5 && Number(minute) <= 55,
    `minute ${minute}: off the top of the hour`,
  );
  assert.equal(hour, '*', 'hourly');
  assert.match(yml, /^ {2}workflow_dispatch:\n {4}inputs:\n {6}run-mode:/m);
  assert.match(yml, /options: \[plan-only, send, no-line\]/);
  // The run mode of a dispatched run is the dispatcher's input (default {"run-mode": "send"}).
  assert.match(yml, /run-mode: \$\{\{ inputs\.run-mode \|\| 'send' \}\}/);
  assert.match(yml, /schedule-minutes: 60/);
});
