// "reply": true (docs/reply.md): the LINE webhook sends the step as the reply to a follow,
// free and within a second, so only a step that is certainly due the moment the follow
// arrives may have it: the first step of a follow-triggered scenario, with no wait and no
// send window, and no tracked links (the webhook does not sign them). Re-entry "restart"
// is refused too: the tick's ingest of the same follow would end the replied enrollment
// and start another, which it would push.
import type { MessageStep, Scenario } from './schema.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';

/** Why this step of the scenario cannot go by reply, or undefined. */
export function replyProblem(scenario: Scenario, index: number): string | undefined {
  const step = scenario.steps[index] as MessageStep;
  if (index !== 0) return 'only the first step can go as the reply to a follow: move it first or remove "reply"';
  if (scenario.entry.trigger.type !== 'follow') {
    return `a reply answers a follow, and this scenario's trigger is "${scenario.entry.trigger.type}": remove "reply" (the step is pushed)`;
  }
  if (step.wait) return 'a reply goes the moment the follow arrives: remove "wait" or remove "reply"';
  const window = step.sendWindow === undefined ? scenario.sendWindow : step.sendWindow;
  if (window) {
    return 'a reply goes the moment the follow arrives, at any hour: add "sendWindow": null to this step or remove "reply"';
  }
  if (step.links && Object.keys(step.links).length) {
    return 'the webhook does not sign tracked links: remove "links" from this step or remove "reply"';
  }
  if (scenario.reentry === 'restart') {
    return 're-entry "restart" would start the scenario again when the tick takes the follow in: use "once" or "after_finish", or remove "reply"';
  }
  return undefined;
}

export function checkReply(list: IssueList, scenario: Scenario): void {
  scenario.steps.forEach((step, i) => {
    if (step.type !== 'message' || step.reply !== true) return;
    const problem = replyProblem(scenario, i);
    const path: JsonPath = ['steps', i, 'reply'];
    if (problem) list.add(path, 'reply', problem);
  });
}
