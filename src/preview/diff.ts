// What a pull request changes in the scenarios, and what that does to users already
// inside them: the reviewer's view of an edit.
import { canonicalJson } from '../scenario/compile.js';
import type { Scenario, Step } from '../scenario/schema.js';
import { describeAction } from '../scenario/action-summary.js';
import type { ScenarioIssue } from '../scenario/issues.js';
import { mdText } from '../contract/markdown-text.js';

export interface ScenarioChange {
  id: string;
  kind: 'added' | 'removed' | 'changed';
  /** One line per change, each saying its effect on enrolled users. */
  details: string[];
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function timingOf(step: Step): unknown {
  return {
    wait: step.wait,
    expireAfter: step.expireAfter,
    window: step.type === 'message' ? step.sendWindow : undefined,
  };
}

function routingOf(step: Step): unknown {
  switch (step.type) {
    case 'message':
    case 'action':
      return step.next;
    case 'branch':
      return { branches: step.branches, default: step.default };
    case 'split':
      return { arms: step.arms, salt: step.salt };
    case 'wait':
      return { for: step.for, timeout: step.timeout, next: step.next, onTimeout: step.onTimeout };
  }
}

/** What an edit of one step (same id in both) does. */
function diffStep(id: string, step: Step, next: Step): string[] {
  const details: string[] = [];
  if (step.type !== next.type)
    details.push(
      `step **${mdText(id)}** changed from ${step.type} to ${next.type}: applies to users who have not reached it.`,
    );
  if (!same(timingOf(step), timingOf(next)))
    details.push(
      `step **${mdText(id)}** retimed: users who have not reached it follow the new timing; those past it are not affected.`,
    );
  if (
    step.type === 'message' &&
    next.type === 'message' &&
    !same([step.messages, step.fallbacks], [next.messages, next.fallbacks])
  ) {
    details.push(`step **${mdText(id)}** messages changed: users who have not received it get the new messages.`);
  }
  if (step.type === 'action' && next.type === 'action' && describeAction(step) !== describeAction(next)) {
    details.push(
      `step **${mdText(id)}** now does: ${mdText(describeAction(next))} (was: ${mdText(describeAction(step))}); users who have not reached it get the new actions.`,
    );
  }
  if (!same(routingOf(step), routingOf(next)))
    details.push(`step **${mdText(id)}** leads elsewhere now: applies from the next decision of each user.`);
  return details;
}

/** Steps removed, edited, added and reordered. */
function diffSteps(base: Scenario, head: Scenario): string[] {
  const details: string[] = [];
  const baseSteps = new Map(base.steps.map((s) => [s.id, s]));
  const headSteps = new Map(head.steps.map((s) => [s.id, s]));
  const onRemoved = head.onStepRemoved ?? 'continue';
  for (const [id, step] of baseSteps) {
    const next = headSteps.get(id);
    if (next) details.push(...diffStep(id, step, next));
    else
      details.push(
        `step **${mdText(id)}** removed: users waiting for it ${onRemoved === 'end' ? 'leave the scenario' : 'continue at the next remaining step'} (onStepRemoved: ${onRemoved}); it is not sent again to anyone.`,
      );
  }
  head.steps.forEach((step, i) => {
    if (!baseSteps.has(step.id)) {
      details.push(
        `step **${mdText(step.id)}** added (position ${i + 1}): users reach it if their path leads there; users already past that point do not get it.`,
      );
    }
  });
  const kept = head.steps.map((s) => s.id).filter((id) => baseSteps.has(id));
  if (base.steps.map((s) => s.id).join() !== kept.join() && base.steps.every((s) => headSteps.has(s.id)))
    details.push('steps reordered: each user keeps the step they are at and continues from there in the new order.');
  return details;
}

function statusChange(base: Scenario, head: Scenario): string | undefined {
  if ((base.status ?? 'active') === (head.status ?? 'active')) return undefined;
  if (head.status === 'retired')
    return (
      'retired: every user inside leaves at the next tick ("the scenario was retired"), their steps still in the ' +
      'outbox are not sent, and no one enters again. After a tick has run, the file may be removed.'
    );
  if (head.status === 'paused') return 'paused: no one enters and nothing is sent until it is active again.';
  if (base.status === 'retired')
    return 'active again after being retired: users who left do not come back; new triggers enroll again.';
  return 'resumed: steps due while paused go out unless they expired.';
}

/** What a change of the holdout does to users inside (docs/measuring.md). */
function holdoutChange(base: Scenario, head: Scenario): string | undefined {
  const [was, now] = [base.holdout, head.holdout];
  if (same(was, now)) return undefined;
  if (!was)
    return (
      `holdout added (${now!.percent}%): that share of users, by a fixed draw, is sent nothing more of this scenario from their next step, ` +
      'those inside now included; users held out after having had a step are counted apart in the report (moved), not compared.'
    );
  if (!now)
    return `holdout removed: the ${was.percent}% held out get their remaining steps from the next tick, and the report stops comparing.`;
  if ((was.salt ?? '') !== (now.salt ?? ''))
    return (
      `holdout salt changed: a new draw of ${now.percent}% (was ${was.percent}%); users inside may change group from their next step ` +
      '(counted apart in the report as moved). Compare periods that begin after the change.'
    );
  const [low, high] = [Math.min(was.percent, now.percent), Math.max(was.percent, now.percent)];
  const margin =
    now.percent > was.percent
      ? `holds out, from their next step, the users between ${low}% and ${high}% of the draw`
      : `sends their remaining steps to the users between ${low}% and ${high}% of the draw`;
  return (
    `holdout changed from ${was.percent}% to ${now.percent}%: the salt is the same, so users already assigned keep their group ` +
    `except the margin: it ${margin} (counted apart in the report as moved, once they had steps in both groups).`
  );
}

function diffOne(base: Scenario, head: Scenario): string[] {
  const details = diffSteps(base, head);
  if (!same(base.entry, head.entry)) details.push('entry changed: applies to new events only; enrolled users stay in.');
  if (!same(base.exit, head.exit) || !same(base.goal, head.goal))
    details.push('exit or goal rules changed: apply to events from now on, for every enrolled user.');
  if (!same(base.sendWindow, head.sendWindow) || base.timezone !== head.timezone)
    details.push('send window or time zone changed: applies to every step not yet sent.');
  if (base.reentry !== head.reentry)
    details.push(`re-entry changed from ${mdText(base.reentry ?? 'once')} to ${mdText(head.reentry ?? 'once')}.`);
  const holdout = holdoutChange(base, head);
  if (holdout) details.push(holdout);
  const status = statusChange(base, head);
  if (status) details.push(status);
  if (details.length && base.version === head.version)
    details.push(`note: "version" is still ${head.version}; raise it so reports tell the versions apart.`);
  return details;
}

export function diffScenarioSets(base: Scenario[], head: Scenario[]): ScenarioChange[] {
  const baseById = new Map(base.map((s) => [s.id, s]));
  const headById = new Map(head.map((s) => [s.id, s]));
  const changes: ScenarioChange[] = [];
  for (const s of head) {
    const old = baseById.get(s.id);
    if (!old)
      changes.push({
        id: s.id,
        kind: 'added',
        details: [
          'new scenario: enrolls from events after its first run (unless activation.backfillFrom says otherwise).',
        ],
      });
    else if (!same(old, s)) changes.push({ id: s.id, kind: 'changed', details: diffOne(old, s) });
  }
  for (const s of base) {
    if (headById.has(s.id)) continue;
    const details =
      s.status === 'retired'
        ? ['retired scenario removed: its users left when it was retired; nothing changes for anyone.']
        : [
            'scenario removed without being retired: its users would be held (nothing sent, nobody leaves) and ' +
              'every tick would fail until the file is back. Set "status": "retired" first.',
          ];
    changes.push({ id: s.id, kind: 'removed', details });
  }
  return changes;
}

/**
 * A scenario of the base revision that the head removes or renames is an error unless the
 * base had retired it: the engine holds the users of a scenario whose file is gone (a file
 * removed by mistake loses no one) and fails every tick until a person decides.
 */
export function removedScenarioIssues(
  base: { file: string; scenario: Scenario }[],
  head: { file: string; scenario: Scenario }[],
): ScenarioIssue[] {
  const headIds = new Set(head.map((h) => h.scenario.id));
  const headByFile = new Map(head.map((h) => [h.file, h.scenario.id]));
  const issues: ScenarioIssue[] = [];
  for (const { file, scenario } of base) {
    if (headIds.has(scenario.id) || scenario.status === 'retired') continue;
    const renamedTo = headByFile.get(file);
    const what =
      renamedTo === undefined
        ? `scenario "${scenario.id}" is removed (${file} is gone)`
        : `scenario "${scenario.id}" is renamed to "${renamedTo}" (a new id is a new scenario)`;
    issues.push({
      file,
      path: ['id'],
      line: 1,
      column: 1,
      rule: 'scenario-removed',
      message:
        `${what}, but it is not retired: its users would be held and every tick would fail. ` +
        'Restore the file, or set "status": "retired" first (merge that; a tick ends its enrollments), ' +
        `then remove it${renamedTo === undefined ? '' : ' or add the new id as a new file'}.`,
    });
  }
  return issues;
}
