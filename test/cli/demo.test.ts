// The README's first command: the demo runs two weeks of sample users in seconds.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runDemo } from '../../src/demo/demo.js';

test('the demo shows each sample user what they received, and nothing after a block or a purchase', async () => {
  const lines: string[] = [];
  assert.equal(await runDemo({ dir: 'scenarios', out: (l) => lines.push(l) }), 0);
  const text = lines.join('\n');
  const block = (who: string) => text.split(`\n${who}\n`)[1]!.split('\n\n')[0]!;
  assert.match(block('Sora (left a cart, bought next day)'), /^ {2}2026-11-23 13:00 {2}cart-abandoned\/reminder .*「白いスニーカー」/);
  assert.doesNotMatch(block('Sora (left a cart, bought next day)'), /cart-abandoned\/coupon/);
  assert.match(block('Yui (left a cart, never bought)'), /cart-abandoned\/coupon/);
  assert.equal(block('Jun (blocked the account on day 2)').split('\n').length, 2);
  assert.match(block('Rin (booked the salon)'), /2026-11-25 15:00 {2}reservation\/reminder/);
  assert.match(text, /\d+ ticks in [\d.]+ s; \d+ LINE requests would have gone out/);
});
