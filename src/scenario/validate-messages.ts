// Checks of message steps: placeholders, fallbacks, tracked links and the step's send window.
import type { Scenario } from './schema.js';
import type { IssueList } from './issue-list.js';
import { didYouMean } from './suggest.js';
import { findPlaceholders, forEachString, isValidPlaceholderKey } from './placeholders.js';
import { checkWindow } from './validate-timing.js';

export function checkMessages(list: IssueList, scenario: Scenario): void {
  scenario.steps.forEach((step, i) => {
    if (step.type !== 'message') return;
    checkWindow(list, step.sendWindow, ['steps', i, 'sendWindow']);
    for (const key of Object.keys(step.fallbacks ?? {})) {
      if (!isValidPlaceholderKey(key))
        list.add(
          ['steps', i, 'fallbacks', key],
          'placeholder',
          `"${key}" is not a placeholder name: write "user.<attribute>", "trigger.<property>" or "answers.<question>".`,
        );
    }
    forEachString(step.messages, ['steps', i, 'messages'], (text, path) => {
      const opened = text.split('{{').length - 1;
      const found = findPlaceholders(text);
      if (found.length !== opened)
        list.add(path, 'placeholder', 'a "{{" is not closed: write placeholders as {{user.displayName}}.');
      for (const p of found) {
        if (!isValidPlaceholderKey(p.key)) {
          list.add(
            path,
            'placeholder',
            `${p.token} is not a placeholder: write {{user.<attribute>}}, {{trigger.<property>}}, {{answers.<question>}} or {{link.<id>}}.${didYouMean(p.namespace, ['user', 'trigger', 'answers', 'link'])}`,
          );
        } else if (p.namespace === 'link' && !(step.links && Object.hasOwn(step.links, p.path))) {
          list.add(
            path,
            'placeholder',
            `${p.token}: this step has no link "${p.path}": add "links": {"${p.path}": "https://..."} to the step.`,
          );
        } else if (p.namespace === 'trigger' && scenario.entry.trigger.type !== 'event') {
          list.add(
            path,
            'placeholder',
            `${p.token}: a ${scenario.entry.trigger.type} trigger has no properties; use {{user.…}} or enter on an event.`,
          );
        }
      }
    });
  });
}
