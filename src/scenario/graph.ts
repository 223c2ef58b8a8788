// The one walk of a scenario's step graph: where each step can lead. The graph checks of
// validate.ts, the compiled scenario the planner runs and the preview's flowchart all read
// the edges from here, so a new step type is added in one place.
import { END, type Step } from './schema.js';
import type { JsonPath } from './json-source.js';

export interface StepEdge {
  /** The edge's name in a picture: an event, "timeout", a branch or an arm; none for plain "next". */
  label?: string;
  /** A step id or "end". */
  to: string;
  /** The property of the step that names `to`; absent when `to` is the next step in file order. */
  via?: JsonPath;
}

/** Where a message, wait or action step goes next (a wait step: when the event happens). */
export function forwardStep(steps: readonly Step[], i: number): string {
  const step = steps[i]!;
  if (step.type === 'branch' || step.type === 'split') return END;
  return step.next ?? steps[i + 1]?.id ?? END;
}

/** "next" when written, else the next step in file order. */
function nextEdge(steps: readonly Step[], i: number, label?: string): StepEdge {
  const step = steps[i]!;
  const written = 'next' in step && step.next !== undefined;
  return {
    ...(label !== undefined ? { label } : {}),
    to: forwardStep(steps, i),
    ...(written ? { via: ['next'] } : {}),
  };
}

/** Every step id (or "end") step i can lead to, in the order a reader expects them. */
export function stepSuccessors(steps: readonly Step[], i: number): StepEdge[] {
  const step = steps[i]!;
  switch (step.type) {
    case 'message':
    case 'action':
      return [nextEdge(steps, i)];
    case 'wait':
      return [nextEdge(steps, i, step.for.event), { label: 'timeout', to: step.onTimeout, via: ['onTimeout'] }];
    case 'branch':
      return [
        ...step.branches.map((b, n) => ({
          label: b.name ?? `branch ${n + 1}`,
          to: b.next,
          via: ['branches', n, 'next'],
        })),
        ...(step.default !== undefined ? [{ label: 'default', to: step.default, via: ['default'] }] : []),
      ];
    case 'split':
      return step.arms.map((arm, n) => ({
        label: `${arm.name} (${arm.weight})`,
        to: arm.next,
        via: ['arms', n, 'next'],
      }));
  }
}
