// The Deno edge functions' event contract is generated from the Node one: a stale copy
// (the rules changed, the generator not run) fails here.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SOURCE, TARGET, edgeContractModule } from '../../scripts/generate-edge-contract.mjs';

test("the edge functions' event contract is the generated copy of src/contract/event-rules.ts", () => {
  assert.equal(
    readFileSync(TARGET, 'utf8'),
    edgeContractModule(),
    `${TARGET} is stale or edited by hand: change ${SOURCE}, then run node scripts/generate-edge-contract.mjs`,
  );
  assert.match(readFileSync(TARGET, 'utf8'), /^\/\/ generated: do not edit/);
});
