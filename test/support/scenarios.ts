// Builders for scenarios in tests: a small valid scenario to start from.
import type { Scenario } from '../../src/scenario/schema.js';

export function baseScenario(overrides: Partial<Scenario> = {}): Scenario {
  return {
    id: 'test-scenario',
    version: 1,
    entry: { trigger: { type: 'event', event: 'cart_abandoned' } },
    steps: [
      { id: 'first', type: 'message', wait: { after: { hours: 1 } }, messages: [{ type: 'text', text: 'hello' }] },
      {
        id: 'second',
        type: 'message',
        wait: { after: { days: 1 }, at: '10:00' },
        messages: [{ type: 'text', text: 'again' }],
      },
    ],
    ...overrides,
  };
}

export function toText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
