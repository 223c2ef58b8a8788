// The interest-survey sample as a pattern (issue 18): its quick-reply postbacks, through the
// webhook's own parser, become survey_answered events its wait step accepts; the answer
// routes the branch to an action step that tags the user by that answer and links the
// rich menu of that interest by alias, then to that branch's message.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { validateScenarioText } from '../../src/scenario/validate.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { evaluate, matchesFilter } from '../../src/planner/conditions.js';
import { timeline } from '../../src/planner/timeline.js';
import { scenarioFlowchart } from '../../src/preview/mermaid.js';
import type { ActionStep, BranchStep, Scenario, Step, WaitStep } from '../../src/scenario/schema.js';
import { localToInstant } from '../../src/time/zoned.js';

// The webhook is Deno code (imports end in .ts): loaded as vitest loads it, typed here by hand.
const WEBHOOK = '../../supabase/functions/line-webhook/handler.ts';
type ToEventRows = (
  events: unknown[],
  now: number,
) => { rows: { type: string; properties: Record<string, unknown> }[]; refused: string[] };
const { toEventRows } = (await import(WEBHOOK)) as { toEventRows: ToEventRows };

const FILE = 'scenarios/interest-survey.json';
const USER = `U${'0'.repeat(31)}1`;

async function sample(): Promise<Scenario> {
  const result = validateScenarioText(FILE, await readFile(FILE, 'utf8'));
  assert.deepEqual(result.issues, []);
  return result.scenario!;
}

const stepOf = <T extends Step['type']>(s: Scenario, id: string, type: T) => {
  const step = s.steps.find((x) => x.id === id);
  assert.equal(step?.type, type, `step ${id} is a ${type} step`);
  return step as Extract<Step, { type: T }>;
};

/** The postback data of every quick-reply button of the question. */
function postbacks(s: Scenario): { label: string; data: string }[] {
  const ask = s.steps.find((x) => x.type === 'message' && x.messages.some((m) => m.quickReply))!;
  assert.ok(ask && ask.type === 'message');
  return ask.messages.flatMap((m) =>
    (m.quickReply?.items ?? []).map((item) => {
      const action = item.action as { type: string; label: string; data: string };
      assert.equal(action.type, 'postback');
      return { label: action.label, data: action.data };
    }),
  );
}

test('each quick reply, through the webhook, is a survey answer that the wait accepts and the branch routes to its own tag and rich menu', async () => {
  const s = await sample();
  const wait: WaitStep = s.steps.find((x): x is WaitStep => x.type === 'wait')!;
  const branch: BranchStep = stepOf(s, wait.next!, 'branch');
  const buttons = postbacks(s);
  assert.ok(buttons.length >= 2, 'the question offers at least two answers');
  const seenMenus = new Set<string>();
  for (const [n, button] of buttons.entries()) {
    const now = Date.UTC(2026, 0, 7, 3);
    const { rows, refused } = toEventRows(
      [
        {
          type: 'postback',
          webhookEventId: `01TEST${n}`,
          timestamp: now,
          source: { type: 'user', userId: USER },
          postback: { data: button.data },
        },
      ],
      now,
    );
    assert.deepEqual(refused, []);
    const [event] = rows;
    assert.equal(event?.type, 'survey_answered', `${button.label}: the webhook reads "${button.data}" as an answer`);
    assert.equal(wait.for.event, 'survey_answered');
    assert.ok(matchesFilter(event.properties, wait.for.where), `${button.label}: the wait step accepts the answer`);

    // The engine stores answers by question (line_users.answers); the branch reads them.
    const answers = { [String(event.properties.question)]: event.properties.answer };
    const ctx = { attributes: {}, answers, trigger: {}, events: [], enteredAt: 0, previousAt: 0, moment: now };
    const hit = branch.branches.find((b) => evaluate(b.when, ctx));
    assert.ok(hit, `${button.label}: a branch matches the answer "${String(event.properties.answer)}"`);
    const action: ActionStep = stepOf(s, hit.next, 'action');
    assert.ok(
      action.tags?.add?.some((t) => t.includes(String(event.properties.answer))),
      `${button.label}: tagged by the answer`,
    );
    assert.ok(action.richMenu && 'alias' in action.richMenu, `${button.label}: switches the rich menu by alias`);
    seenMenus.add(action.richMenu.alias);
    const after = s.steps[s.steps.indexOf(action) + 1];
    assert.equal(action.next ?? after?.id, after?.id);
    assert.equal(after?.type, 'message', `${button.label}: then a message of that branch`);
  }
  assert.equal(seenMenus.size, buttons.length, 'each answer has its own rich menu');
});

test('without an answer the wait times out into an action step, and the preview names every action', async () => {
  const s = await sample();
  const wait: WaitStep = s.steps.find((x): x is WaitStep => x.type === 'wait')!;
  assert.ok(wait.timeout.days, 'the wait has a timeout');
  const timedOut = stepOf(s, wait.onTimeout, 'action');
  const compiled = compileScenario(s);
  const entries = timeline(compiled, { enteredAt: localToInstant('Asia/Tokyo', 2026, 1, 5, 14, 0) });
  const shown = entries.find((e) => e.stepId === timedOut.id);
  assert.ok(shown, 'the timeline follows the timeout path to its action');
  assert.equal(shown.label, `tags + ${timedOut.tags!.add!.join(' + ')}`);
  const chart = scenarioFlowchart(s);
  for (const step of s.steps.filter((x): x is ActionStep => x.type === 'action')) {
    if (step.richMenu && 'alias' in step.richMenu) assert.ok(chart.includes(`rich menu → ${step.richMenu.alias}`));
    for (const tag of step.tags?.add ?? []) assert.ok(chart.includes(`+ ${tag}`), `${tag} in the flowchart`);
  }
});
