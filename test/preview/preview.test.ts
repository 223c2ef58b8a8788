import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { timeline } from '../../src/planner/timeline.js';
import { scenarioFlowchart } from '../../src/preview/mermaid.js';
import { diffScenarioSets } from '../../src/preview/diff.js';
import { previewMarkdown } from '../../src/preview/markdown.js';
import { formatLocal, localToInstant } from '../../src/time/zoned.js';
import { baseScenario } from '../support/scenarios.js';
import type { Scenario } from '../../src/scenario/schema.js';

const samples = await loadScenarioDir('scenarios');
const sample = (id: string) => samples.scenarios.find((s) => s.scenario.id === id)!.compiled;

test('timeline of the welcome series: day 1, 5 and 7 at 10:00', () => {
  const entered = localToInstant('Asia/Tokyo', 2026, 11, 23, 22, 30); // after the 21:00 window closes: the welcome has none
  const rows = timeline(sample('friend-welcome'), { enteredAt: entered }).map(
    (e) => `day ${e.day} ${formatLocal(e.at, 'Asia/Tokyo').slice(11)} ${e.stepId}`,
  );
  assert.deepEqual(rows, [
    'day 0 22:30 welcome',
    'day 1 10:00 day1-campaign',
    'day 5 10:00 day5-reviews',
    'day 7 10:00 coupon-test',
    'day 7 10:00 coupon-percent',
  ]);
});

test('timeline of a reservation counts from the reservation date', () => {
  const rows = timeline(sample('reservation'), {
    enteredAt: localToInstant('Asia/Tokyo', 2026, 12, 1, 12, 0),
    trigger: { reservationAt: '2026-12-05T15:00:00+09:00' },
  }).map((e) => `${formatLocal(e.at, 'Asia/Tokyo')} ${e.stepId}`);
  assert.deepEqual(rows, [
    '2026-12-01 12:00 thanks',
    '2026-12-04 15:00 reminder',
    '2026-12-06 19:00 follow-up',
    '2027-01-04 12:00 next-booking',
  ]);
});

test('the flowchart has a node per step, an edge per route, and escapes labels', () => {
  const chart = scenarioFlowchart(sample('after-purchase').scenario);
  const scenario = sample('after-purchase').scenario;
  scenario.steps.forEach((step, i) => assert.match(chart, new RegExp(`\\n  s${i}[\\[{(/]`), step.id));
  assert.match(chart, /s5 -- "satisfied" --> s7/);
  assert.match(chart, /s3 -- "timeout" --> s4/);
  assert.doesNotMatch(chart, /\{\{/, 'placeholder braces are escaped');
});

test('the PR diff says what each change does to enrolled users', () => {
  const base = baseScenario();
  const head: Scenario = {
    ...base,
    steps: [
      { ...base.steps[0]!, wait: { after: { hours: 2 } } },
      { id: 'third', type: 'message', messages: [{ type: 'text', text: 'new' }] },
    ],
  };
  const [change] = diffScenarioSets([base], [head]);
  assert.equal(change?.kind, 'changed');
  const text = change.details.join('\n');
  assert.match(text, /step \*\*first\*\* retimed: users who have not reached it follow the new timing/);
  assert.match(text, /step \*\*second\*\* removed: users waiting for it continue at the next remaining step/);
  assert.match(text, /step \*\*third\*\* added/);
  assert.match(text, /"version" is still 1/);
  assert.deepEqual(diffScenarioSets([base], [base]), []);
  assert.deepEqual(
    diffScenarioSets([], [base]).map((c) => c.kind),
    ['added'],
  );
  assert.deepEqual(
    diffScenarioSets([base], []).map((c) => c.kind),
    ['removed'],
  );
  const retexted = {
    ...base,
    steps: [base.steps[0]!, { ...base.steps[1]!, messages: [{ type: 'text', text: 'changed' }] }],
  } as Scenario;
  assert.match(diffScenarioSets([base], [retexted])[0]!.details.join(), /messages changed/);
});

test('the summary shows every scenario with a mermaid block and a timeline', () => {
  const md = previewMarkdown({ result: samples });
  assert.match(md, /✅ 15 scenario\(s\) valid/);
  assert.equal(md.split('```mermaid').length - 1, 15);
  assert.match(md, /\| day 7 10:00 \| coupon-test \|/);
  assert.ok(Buffer.byteLength(md) < 1024 * 1024, 'fits the 1 MiB job summary limit');
  const compiled = compileScenario(baseScenario());
  assert.match(
    previewMarkdown({
      result: { scenarios: [{ file: 'x.json', scenario: compiled.scenario, compiled }], issues: [], files: ['x.json'] },
    }),
    /test-scenario/,
  );
});
