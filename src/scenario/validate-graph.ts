// The step graph's checks: unique ids, references that name a step, every step reachable
// from the first, and no loop in which nothing waits (it would send without end).
import { END, type Scenario } from './schema.js';
import type { JsonPath } from './json-source.js';
import type { IssueList } from './issue-list.js';
import { stepSuccessors } from './graph.js';
import { didYouMean } from './suggest.js';
import { durationMinutes } from './validate-conditions.js';

/** Step id to index; a reserved or repeated id is reported and left out. */
function checkIds(list: IssueList, scenario: Scenario): Map<string, number> {
  const ids = new Map<string, number>();
  scenario.steps.forEach((step, i) => {
    if (step.id === END)
      list.add(
        ['steps', i, 'id'],
        'reserved-step-id',
        '"end" means "finish the enrollment" and cannot be a step id: rename the step.',
      );
    else if (ids.has(step.id))
      list.add(
        ['steps', i, 'id'],
        'duplicate-step',
        `step id "${step.id}" is already used by steps[${ids.get(step.id)}]: give each step its own id.`,
      );
    else ids.set(step.id, i);
  });
  return ids;
}

/** Every next/default/onTimeout names a step or "end"; a branch has a default. False when a reference is broken. */
function checkReferences(list: IssueList, scenario: Scenario, ids: Map<string, number>): boolean {
  let intact = true;
  scenario.steps.forEach((step, i) => {
    for (const edge of stepSuccessors(scenario.steps, i)) {
      if (!edge.via || edge.to === END || ids.has(edge.to)) continue;
      intact = false;
      const path: JsonPath = ['steps', i, ...edge.via];
      list.add(
        path,
        'unknown-step',
        `there is no step "${edge.to}".${didYouMean(edge.to, ids.keys())} Use a step id of this scenario or "end".`,
      );
    }
    if (step.type === 'branch' && step.default === undefined) {
      list.add(
        ['steps', i],
        'branch-without-default',
        `branch "${step.id}" has no "default": add "default": "<step id>" or "end", for users no branch matches.`,
      );
    }
  });
  return intact;
}

function checkReachable(list: IssueList, scenario: Scenario, ids: Map<string, number>): void {
  const reached = new Set<string>();
  const stack = [scenario.steps[0]!.id];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === END || reached.has(id)) continue;
    reached.add(id);
    for (const s of stepSuccessors(scenario.steps, ids.get(id)!)) stack.push(s.to);
  }
  scenario.steps.forEach((step, i) => {
    if (!reached.has(step.id)) {
      list.add(
        ['steps', i],
        'unreachable-step',
        `no path leads to step "${step.id}": point a "next" (or a branch) at it, or remove it.`,
      );
    }
  });
}

/** A step that cannot happen at the same moment as the one before it. */
function takesTime(scenario: Scenario, i: number): boolean {
  const step = scenario.steps[i]!;
  if (step.type === 'wait') return true;
  const w = step.wait;
  return (
    !!w &&
    (w.at !== undefined ||
      durationMinutes(w.after) > 0 ||
      w.before !== undefined ||
      (w.from ?? 'previous').startsWith('trigger.'))
  );
}

/** Every cycle needs a delay: a depth-first walk reports the first instant loop through each step. */
function checkLoops(list: IssueList, scenario: Scenario, ids: Map<string, number>): void {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): boolean => {
    if (id === END || state.get(id) === 'done') return false;
    if (state.get(id) === 'open') {
      const cycle = trail.slice(trail.indexOf(id));
      list.add(
        ['steps', ids.get(id)!],
        'loop-without-delay',
        `steps ${[...cycle, id].join(' → ')} form a loop with no delay: give one of them a "wait".`,
      );
      return true;
    }
    state.set(id, 'open');
    trail.push(id);
    const i = ids.get(id)!;
    // Edges out of a step that takes time cannot close an instant loop.
    const found = !takesTime(scenario, i) && stepSuccessors(scenario.steps, i).some((s) => visit(s.to));
    trail.pop();
    state.set(id, 'done');
    return found;
  };
  for (const id of ids.keys()) if (!state.has(id)) visit(id);
}

export function checkGraph(list: IssueList, scenario: Scenario): void {
  const ids = checkIds(list, scenario);
  const intact = checkReferences(list, scenario, ids);
  if (!intact || ids.size !== scenario.steps.length) return;
  checkReachable(list, scenario, ids);
  checkLoops(list, scenario, ids);
}
