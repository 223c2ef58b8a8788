// fast-check generators of valid scenarios: steps only lead forward (so there is no
// loop) and each step is reachable from the one before it.
import fc from 'fast-check';
import type { Condition, Duration, Scenario, Step, Timing } from '../../src/scenario/schema.js';

export const EVENTS = ['purchased', 'survey_answered', 'price_dropped', 'clicked'] as const;

export const durationArb: fc.Arbitrary<Duration> = fc.oneof(
  fc.record({ days: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ hours: fc.integer({ min: 1, max: 48 }) }),
  fc.record({ minutes: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ days: fc.integer({ min: 0, max: 3 }), hours: fc.integer({ min: 0, max: 23 }) }),
);

const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

export const timingArb: fc.Arbitrary<Timing | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ after: durationArb }, { requiredKeys: ['after'] }),
  fc.record({
    after: fc.record({ days: fc.integer({ min: 0, max: 10 }) }),
    at: hhmm,
    from: fc.constantFrom('previous', 'entry'),
  }),
);

export const conditionArb: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      field: fc.constantFrom('user.gender', 'user.ageBand', 'user.region', 'answers.q1', 'trigger.category'),
      eq: fc.constantFrom('a', 'b', 'c'),
    }),
    fc.record({ field: fc.constant('user.tags'), contains: fc.constantFrom('vip', 'new') }),
    fc.record({ event: fc.constantFrom(...EVENTS) }),
    fc.record({ event: fc.constantFrom(...EVENTS), atLeast: fc.integer({ min: 1, max: 2 }) }),
    fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('c') }),
  ),
})).c;

type StepKind = 'message' | 'branch' | 'split' | 'wait' | 'action';

/**
 * Steps whose references all point forward; step i+1 is always reachable from step i.
 * Action steps only when `kinds` asks for them (the default kinds are the four older ones).
 */
export function stepsArb(options: { maxSteps?: number; kinds?: StepKind[] } = {}): fc.Arbitrary<Step[]> {
  const kinds = options.kinds ?? ['message', 'branch', 'split', 'wait'];
  return fc.integer({ min: 1, max: options.maxSteps ?? 7 }).chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) => {
        const id = `s${i}`;
        const following = i + 1 < n ? `s${i + 1}` : 'end';
        const forward = fc.constantFrom(...Array.from({ length: n - i - 1 }, (_, k) => `s${i + 1 + k}`), 'end');
        const kind = i + 1 < n ? fc.constantFrom(...kinds) : fc.constant<StepKind>('message');
        return fc
          .tuple(kind, timingArb, forward, forward, fc.string({ minLength: 1, maxLength: 40 }))
          .map(([k, wait, a, b, text]): Step => {
            const base = { id, ...(wait ? { wait } : {}) };
            switch (k) {
              case 'message':
                return {
                  ...base,
                  type: 'message',
                  messages: [{ type: 'text', text: text.replace(/[{}]/g, '') || 'x' }],
                };
              case 'branch':
                return {
                  ...base,
                  type: 'branch',
                  branches: [{ when: { event: 'purchased' }, next: a }],
                  default: following,
                };
              case 'split':
                return {
                  ...base,
                  type: 'split',
                  arms: [
                    { name: 'a', weight: 1, next: following },
                    { name: 'b', weight: 1, next: b },
                  ],
                };
              case 'action':
                return {
                  ...base,
                  type: 'action',
                  tags: { add: [`t${i}`] },
                  ...(a === following ? {} : { attributes: { set: { step: i } }, richMenu: { alias: `menu-${i}` } }),
                  next: following,
                };
              case 'wait':
                return {
                  ...base,
                  type: 'wait',
                  for: { event: 'survey_answered' },
                  timeout: { hours: 24 },
                  next: following,
                  onTimeout: a,
                };
            }
          });
      }),
    ),
  );
}

export function scenarioArb(options: { maxSteps?: number; kinds?: StepKind[] } = {}): fc.Arbitrary<Scenario> {
  return fc.record(
    {
      id: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      version: fc.integer({ min: 1, max: 100 }),
      timezone: fc.constantFrom('Asia/Tokyo', 'America/New_York', 'Europe/London', 'UTC', 'Australia/Lord_Howe'),
      entry: fc.oneof(
        fc.record({ trigger: fc.constant({ type: 'follow' as const }) }),
        fc.record({
          trigger: fc.constant({ type: 'event' as const, event: 'cart_abandoned' }),
          audience: conditionArb,
        }),
      ),
      reentry: fc.constantFrom('once', 'after_finish', 'restart'),
      sendWindow: fc.option(
        fc.constantFrom(
          { start: '09:00', end: '21:00' },
          { start: '00:00', end: '23:59' },
          { start: '10:00', end: '18:00', days: ['mon', 'wed', 'fri'] as ('mon' | 'wed' | 'fri')[] },
        ),
        { nil: undefined },
      ),
      exit: fc.option(fc.constant([{ event: 'purchased' }]), { nil: undefined }),
      steps: stepsArb(options),
    },
    { requiredKeys: ['id', 'version', 'timezone', 'entry', 'steps'] },
  );
}
