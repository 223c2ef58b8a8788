// Lanes sized from the round trip: next door, the adapter's count; far away, enough pages in
// flight to fill the wait, within the connections the adapter may open.
import { test } from 'vitest';
import { fc, test as property } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import { lanesFor, PAGE_WORK_MS } from '../../src/engine/decide/lanes.js';

test('a database next door keeps the adapter count; one 100 ms away gets more lanes, bounded by the connections', () => {
  assert.equal(lanesFor({ base: 2, roundTripMs: 0.4, max: 12 }), 2);
  assert.equal(lanesFor({ base: 2, roundTripMs: undefined, max: 12 }), 2);
  assert.equal(lanesFor({ base: 2, roundTripMs: 100, max: 12 }), Math.round(2 * (1 + 200 / PAGE_WORK_MS)));
  assert.equal(lanesFor({ base: 2, roundTripMs: 150, max: 8 }), 8);
  assert.equal(lanesFor({ base: 1, roundTripMs: 20, max: 1 }), 1);
});

property.prop([
  fc.integer({ min: 1, max: 4 }),
  fc.double({ min: 0, max: 1000, noNaN: true }),
  fc.integer({ min: 1, max: 32 }),
])('never fewer than one nor more than the budget, and never fewer as the database moves away', (base, rtt, max) => {
  const lanes = lanesFor({ base, roundTripMs: rtt, max });
  assert.ok(lanes >= 1 && lanes <= max);
  assert.ok(lanesFor({ base, roundTripMs: rtt + 10, max }) >= lanes);
});
