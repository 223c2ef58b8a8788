// A Mermaid flowchart of one scenario: entry, steps, branches and exits. GitHub renders
// a fenced mermaid block in a job summary or a comment as a diagram.
import { stepSuccessors } from '../scenario/graph.js';
import { describeAction } from '../scenario/action-summary.js';
import { END, type Scenario, type Trigger } from '../scenario/schema.js';
import { formatDuration, summarizeMessage } from '../planner/timeline.js';
import { durationMs } from '../planner/timing.js';
import { mermaidLabel } from '../contract/markdown-text.js';

/** Mermaid labels are quoted, one line, with nothing in them that ends the quotes, the fence or the diagram. */
const label = (text: string): string => mermaidLabel(text);

export function describeTrigger(t: Trigger): string {
  switch (t.type) {
    case 'follow':
      return `friend added${t.route ? ` via ${[t.route].flat().join(' / ')}` : ''}${t.includeUnblocked ? ' (or unblocked)' : ''}`;
    case 'event':
      return `event ${t.event}${t.where ? ` where ${JSON.stringify(t.where)}` : ''}`;
    case 'list':
      return `imported list ${t.list}`;
    case 'audience':
      return 'attributes match the audience';
  }
}

export function scenarioFlowchart(scenario: Scenario): string {
  const lines = ['flowchart TD'];
  const node = (id: string) => (id === END ? 'done' : `s${scenario.steps.findIndex((s) => s.id === id)}`);
  lines.push(`  entry([${label(`▶ ${describeTrigger(scenario.entry.trigger)}`)}]) --> ${node(scenario.steps[0]!.id)}`);
  scenario.steps.forEach((step, i) => {
    const w = step.wait;
    const wait = w
      ? ` · ${w.before ? `${formatDuration(durationMs(w.before))} before` : formatDuration(durationMs(w.after))}${w.at ? ` at ${w.at}` : ''}${w.from && w.from !== 'previous' ? ` from ${w.from}` : ''}`
      : '';
    let shape: string;
    switch (step.type) {
      case 'message':
        shape = `[${label(`${step.id}${wait}\n${step.messages.map((m) => summarizeMessage(m, 30)).join(' + ')}`)}]`;
        break;
      case 'branch':
        shape = `{${label(`${step.id}${wait}`)}}`;
        break;
      case 'split':
        shape = `{{${label(`A/B ${step.id}${wait}`)}}}`;
        break;
      case 'action':
        // A subroutine box: it changes the user, it sends nothing.
        shape = `[[${label(`${step.id}${wait}\n${describeAction(step)}`)}]]`;
        break;
      case 'wait':
        shape = `[/${label(`${step.id}: wait ${formatDuration(durationMs(step.timeout))} for ${step.for.event}`)}/]`;
        break;
    }
    lines.push(`  s${i}${shape}`);
    for (const edge of stepSuccessors(scenario.steps, i)) {
      lines.push(`  s${i} ${edge.label ? `-- ${label(edge.label)} ` : ''}--> ${node(edge.to)}`);
    }
  });
  lines.push('  done((end))');
  const exits = [...(scenario.exit ?? []).map((e) => e.event), 'unfollow'];
  lines.push(`  exits[/${label(`exits on: ${exits.join(', ')}`)}/]`);
  return lines.join('\n');
}
