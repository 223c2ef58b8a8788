// The Deno edge functions' copies of modules from src/ are generated: a stale copy (the
// source changed, the generator not run) fails here.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MODULES, edgeModule } from '../../scripts/generate-edge-modules.mjs';

for (const m of MODULES) {
  test(`${m.target} is the generated copy of ${m.source}`, () => {
    assert.equal(
      readFileSync(m.target, 'utf8'),
      edgeModule(m),
      `${m.target} is stale or edited by hand: change ${m.source}, then run node scripts/generate-edge-modules.mjs`,
    );
  });
}
