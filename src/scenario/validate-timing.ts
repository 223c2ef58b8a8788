// Timing checks of each step (after/before/from/at, wait timeouts) and of send windows.
import type { Scenario } from './schema.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';
import { checkCondition, checkDuration, checkFilter, durationMinutes } from './validate-conditions.js';
import { parseHhMm } from '../time/zoned.js';

export function checkTiming(list: IssueList, scenario: Scenario): void {
  const triggerHasProperties = scenario.entry.trigger.type === 'event';
  scenario.steps.forEach((step, i) => {
    const base: JsonPath = ['steps', i];
    checkDuration(list, step.expireAfter, [...base, 'expireAfter']);
    if (step.type === 'wait') {
      checkDuration(list, step.timeout, [...base, 'timeout']);
      if (durationMinutes(step.timeout) === 0)
        list.add([...base, 'timeout'], 'timing', 'a wait needs a timeout longer than zero.');
      checkFilter(list, step.for.where, [...base, 'for', 'where']);
    }
    if (step.type === 'branch')
      step.branches.forEach((b, n) => checkCondition(list, b.when, [...base, 'branches', n, 'when']));
    const w = step.wait;
    if (!w) return;
    const wp: JsonPath = [...base, 'wait'];
    checkDuration(list, w.after, [...wp, 'after']);
    checkDuration(list, w.before, [...wp, 'before']);
    if (w.after && w.before) list.add(wp, 'timing', 'give "after" or "before", not both.');
    const from = w.from ?? 'previous';
    if (w.before && !from.startsWith('trigger.')) {
      list.add(
        [...wp, 'before'],
        'timing',
        '"before" counts back from a date: add "from": "trigger.<date property>", e.g. "trigger.reservationAt".',
      );
    }
    if (from.startsWith('trigger.') && !triggerHasProperties) {
      list.add(
        [...wp, 'from'],
        'trigger-date',
        `a ${scenario.entry.trigger.type} trigger carries no dates: use "previous" or "entry", or enter on an event that has the date.`,
      );
    }
    if (w.at !== undefined) {
      const d = w.after ?? w.before;
      if (d && (d.hours || d.minutes)) {
        list.add(
          [...wp, 'at'],
          'timing',
          '"at" sets the time of day, so count the delay in days only (e.g. {"days": 3}, "at": "10:00").',
        );
      }
    }
  });
}

export function checkWindow(
  list: IssueList,
  window: { start: string; end: string } | null | undefined,
  path: JsonPath,
): void {
  if (window && parseHhMm(window.start) >= parseHhMm(window.end)) {
    list.add(
      path,
      'send-window',
      `the send window starts at ${window.start} and ends at ${window.end}: "start" must come before "end" on the same day (for example 09:00 to 21:00).`,
    );
  }
}
