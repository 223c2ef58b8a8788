// The preview shows action steps next to the messages: the timeline, the flowchart, the
// PR summary and the PR diff say what an action does ("tags + vip − new, rich menu → …").
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { compileScenario } from '../../src/scenario/compile.js';
import { describeAction } from '../../src/scenario/action-summary.js';
import { timeline } from '../../src/planner/timeline.js';
import { scenarioFlowchart } from '../../src/preview/mermaid.js';
import { diffScenarioSets } from '../../src/preview/diff.js';
import { previewMarkdown } from '../../src/preview/markdown.js';
import { formatLocal, localToInstant } from '../../src/time/zoned.js';
import { baseScenario } from '../support/scenarios.js';
import type { Scenario } from '../../src/scenario/schema.js';

const scenario = (action: Record<string, unknown>): Scenario =>
  baseScenario({
    entry: { trigger: { type: 'follow' } },
    steps: [
      { id: 'hello', type: 'message', messages: [{ type: 'text', text: 'welcome' }] },
      { id: 'promote', type: 'action', wait: { after: { days: 1 }, at: '10:00' }, ...action },
      { id: 'news', type: 'message', messages: [{ type: 'text', text: 'your new menu' }] },
    ],
  } as never);

test('describeAction says each change in one line', () => {
  assert.equal(
    describeAction({
      tags: { add: ['vip', 'gold'], remove: ['new'] },
      attributes: { set: { plan: 'gold', visits: 3 }, clear: ['trial'] },
      richMenu: { alias: 'member-menu' },
    }),
    'tags + vip + gold − new, attributes plan=gold visits=3 trial cleared, rich menu → member-menu',
  );
  assert.equal(
    describeAction({ richMenu: { id: `richmenu-${'f'.repeat(32)}` } }),
    `rich menu → richmenu-${'f'.repeat(32)}`,
  );
  assert.equal(describeAction({ richMenu: { unlink: true } }), 'rich menu unlinked');
});

test('the timeline dates an action step like any step and goes on to the next', () => {
  const compiled = compileScenario(
    scenario({ tags: { add: ['vip'], remove: ['new'] }, richMenu: { alias: 'member-menu' } }),
  );
  const rows = timeline(compiled, { enteredAt: localToInstant('Asia/Tokyo', 2026, 1, 5, 14, 0) }).map(
    (e) => `${formatLocal(e.at, 'Asia/Tokyo')} ${e.stepId} ${e.type}: ${e.label}`,
  );
  assert.deepEqual(rows, [
    '2026-01-05 14:00 hello message: welcome',
    '2026-01-06 10:00 promote action: tags + vip − new, rich menu → member-menu',
    '2026-01-06 10:00 news message: your new menu',
  ]);
});

test('the flowchart draws an action step as its own box, with its edge on', () => {
  const chart = scenarioFlowchart(scenario({ tags: { add: ['vip'] }, richMenu: { alias: 'member-menu' } }));
  assert.match(chart, /\n {2}s1\[\["promote · 1 day at 10:00 · tags \+ vip, rich menu → member-menu"\]\]/);
  assert.match(chart, /\n {2}s1 --> s2\n/);
});

test('the PR summary shows the action in the timeline table next to the messages', () => {
  const s = scenario({ attributes: { set: { plan: 'gold' } } });
  const markdown = previewMarkdown({
    result: {
      scenarios: [{ file: 'x.json', scenario: s, compiled: compileScenario(s) }],
      issues: [],
      files: ['x.json'],
    },
  });
  assert.match(markdown, /\| day 1 10:00 \| promote \| attributes plan=gold \| {2}\|/);
  assert.match(markdown, /\| day 0 14:00 \| hello \| welcome \|/);
});

test('the PR diff says what an action step does now', () => {
  const base = scenario({ tags: { add: ['vip'] }, richMenu: { alias: 'member-menu' } });
  const head = { ...scenario({ tags: { add: ['vip'] }, richMenu: { alias: 'gold-menu' } }), version: 2 };
  const [change] = diffScenarioSets([base], [head]);
  assert.ok(
    change?.details.includes(
      'step **promote** now does: tags + vip, rich menu → gold-menu (was: tags + vip, rich menu → member-menu); users who have not reached it get the new actions.',
    ),
    JSON.stringify(change?.details),
  );
});
