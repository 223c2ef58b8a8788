// "holdout" (docs/measuring.md): a share of the users who enter is sent nothing, so the
// report can compare their conversion with the treated users'. Conversion is the goal, so a
// holdout without a goal would measure nothing.
import type { Scenario } from './schema.js';
import type { IssueList } from './issue-list.js';

export function checkHoldout(list: IssueList, scenario: Scenario): void {
  if (!scenario.holdout || scenario.goal) return;
  list.add(
    ['holdout'],
    'holdout',
    'a holdout measures conversion to the goal, and this scenario has none: add "goal": {"event": "purchased"} (the event that counts as converted) or remove "holdout"',
  );
}
