// The run mode from the new setting and the deprecated ones, over every combination: one
// warning per deprecated setting given, the mode they all name, and a refusal naming each
// setting when they disagree.
import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RUN_MODES, RunModeError, resolveRunMode, type RunMode } from '../../src/engine/run-mode.js';

const mode = fc.constantFrom(...RUN_MODES);
const write = (m: RunMode) => `run-mode: ${m}`;

propTest.prop([fc.option(mode, { nil: undefined }), fc.array(mode, { maxLength: 3 }), mode])(
  'resolves to the one mode given, warns once per deprecated setting, refuses a disagreement',
  (value, aliasModes, fallback) => {
    const warnings: string[] = [];
    const aliases = aliasModes.map((m, i) => ({ given: `old-${i}`, mode: m }));
    const resolve = () =>
      resolveRunMode({ value, name: 'input run-mode', write, aliases, fallback, warn: (w) => warnings.push(w) });
    const named = new Set([...(value ? [value] : []), ...aliasModes]);
    if (named.size > 1) {
      assert.throws(resolve, (error: unknown) => {
        assert.ok(error instanceof RunModeError);
        for (const a of aliases) assert.match(error.message, new RegExp(`\\b${a.given}\\b`));
        return true;
      });
      return;
    }
    assert.equal(resolve(), [...named][0] ?? fallback);
    assert.deepEqual(
      warnings,
      aliases.map((a) => `${a.given} is deprecated: write ${write(a.mode)} instead (it means the same).`),
    );
  },
);

test('an unknown mode is refused with the three names', () => {
  assert.throws(
    () =>
      resolveRunMode({ value: 'dry', name: 'input run-mode', write, aliases: [], fallback: 'send', warn: () => {} }),
    (error: unknown) =>
      error instanceof RunModeError && error.message === 'input run-mode must be send, plan-only or no-line, got "dry"',
  );
});
