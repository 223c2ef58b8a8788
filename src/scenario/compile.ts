// A validated scenario, indexed for the planner: steps by id, each step's resolved
// successors, the defaults applied. Built once per tick, used for every enrollment.
import { createHash } from 'node:crypto';
import { DEFAULT_PRIORITY, DEFAULT_TIMEZONE, type Scenario, type Step } from './schema.js';
import { forwardStep } from './graph.js';
import { hasPlaceholders } from './placeholders.js';

export interface CompiledStep {
  step: Step;
  index: number;
  /** Where a message, wait or action step goes next (a wait step: when the event happens); "end" for a branch or split. */
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
  /** The file it was read from (the loader sets it): errors found later name it. */
  file?: string | undefined;
  /** sha256 of the canonical JSON: identifies this exact definition. */
  hash: string;
  timezone: string;
  priority: number;
  first: string;
  steps: Map<string, CompiledStep>;
  order: string[];
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
      next: forwardStep(scenario.steps, index),
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
