// A validated scenario, indexed for the planner: steps by id, each step's resolved
// successors, the defaults applied. Built once per tick, used for every enrollment.
import { createHash } from 'node:crypto';
import { DEFAULT_PRIORITY, DEFAULT_TIMEZONE, END, type Scenario, type Step } from './schema.js';
import { hasPlaceholders } from './placeholders.js';

export interface CompiledStep {
  step: Step;
  index: number;
  /** Where a message or wait step goes next (a wait step: when the event happens). */
  next: string;
  /** Identical messages for every recipient: may go out by multicast. */
  uniform: boolean;
  /** customAggregationUnits name. */
  aggregationUnit: string;
  /** Per message: a text message whose placeholders are all in its text (cheap to re-check after rendering). */
  textOnlyPlaceholders: boolean[];
}

export interface CompiledScenario {
  scenario: Scenario;
  id: string;
  /** sha256 of the canonical JSON: identifies this exact definition. */
  hash: string;
  timezone: string;
  priority: number;
  first: string;
  steps: Map<string, CompiledStep>;
  order: string[];
}

/** The step after index i in file order, or "end". */
function following(steps: Step[], i: number): string {
  return steps[i + 1]?.id ?? END;
}

/** Every step id (or "end") a step can lead to, for the graph checks and the preview. */
export function successors(steps: Step[], i: number): { label?: string; to: string }[] {
  const step = steps[i]!;
  switch (step.type) {
    case 'message':
      return [{ to: step.next ?? following(steps, i) }];
    case 'wait':
      return [
        { label: step.for.event, to: step.next ?? following(steps, i) },
        { label: 'timeout', to: step.onTimeout },
      ];
    case 'branch':
      return [
        ...step.branches.map((b, n) => ({ label: b.name ?? `branch ${n + 1}`, to: b.next })),
        ...(step.default !== undefined ? [{ label: 'default', to: step.default }] : []),
      ];
    case 'split':
      return step.arms.map((arm) => ({ label: `${arm.name} (${arm.weight})`, to: arm.next }));
  }
}

/** JSON with sorted keys, so that a hash does not depend on key order or formatting. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([k, v]) => v !== undefined && k !== '$schema')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** LINE allows [A-Za-z0-9_]{1,30}: scenario and step ids, shortened with a hash if needed. */
export function defaultAggregationUnit(scenarioId: string, stepId: string): string {
  const plain = `${scenarioId}__${stepId}`.replace(/[^A-Za-z0-9_]/g, '_');
  if (plain.length <= 30) return plain;
  const hash = createHash('sha256').update(`${scenarioId}/${stepId}`).digest('hex').slice(0, 6);
  return `${plain.slice(0, 23)}_${hash}`;
}

export function compileScenario(scenario: Scenario): CompiledScenario {
  const steps = new Map<string, CompiledStep>();
  scenario.steps.forEach((step, index) => {
    steps.set(step.id, {
      step,
      index,
      next: step.type === 'message' || step.type === 'wait' ? (step.next ?? following(scenario.steps, index)) : END,
      uniform: step.type === 'message' ? !hasPlaceholders(step.messages) : true,
      aggregationUnit:
        (step.type === 'message' ? step.aggregationUnit : undefined) ?? defaultAggregationUnit(scenario.id, step.id),
      textOnlyPlaceholders:
        step.type === 'message'
          ? step.messages.map((m) => m.type === 'text' && !hasPlaceholders({ ...m, text: '' }))
          : [],
    });
  });
  return {
    scenario,
    id: scenario.id,
    hash: createHash('sha256').update(canonicalJson(scenario)).digest('hex'),
    timezone: scenario.timezone ?? DEFAULT_TIMEZONE,
    priority: scenario.priority ?? DEFAULT_PRIORITY,
    first: scenario.steps[0]!.id,
    steps,
    order: scenario.steps.map((s) => s.id),
  };
}
