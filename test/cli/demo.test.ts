// The README's first command: the demo runs two weeks of sample users in seconds and tells
// each user's story: what happened, what they received, and why the rest did not come.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { runDemo } from '../../src/demo/demo.js';
import { clipText } from '../../src/planner/timeline.js';

test('the demo shows each sample user their events beside what they received, and why a step did not come', async () => {
  const lines: string[] = [];
  assert.equal(await runDemo({ dir: 'scenarios', out: (l) => lines.push(l) }), 0);
  const text = lines.join('\n');
  const block = (who: string) => text.split(`\n${who}\n`)[1]!.split('\n\n')[0]!;
  const sora = block('Sora (left a cart, bought next day)');
  assert.match(
    sora,
    /^ {2}2026-11-23 12:00 {2}← cart_abandoned {2}\(productName: 白いスニーカー, total: 5000\)\n {2}2026-11-23 13:00 {2}→ cart-abandoned\/reminder .*「白いスニーカー」/,
  );
  assert.match(sora, /2026-11-24 08:00 {2}← purchased/);
  assert.doesNotMatch(sora, /cart-abandoned\/coupon/);
  assert.match(sora, /✗ cart-abandoned ended at 2026-11-24 \d\d:00: exit: purchased \(a conversion\)/);
  assert.match(block('Yui (left a cart, never bought)'), /→ cart-abandoned\/coupon/);
  const jun = block('Jun (blocked the account on day 2)');
  assert.equal(jun.split('\n').filter((l) => l.includes('→')).length, 2, jun);
  assert.match(jun, /← unfollow/);
  assert.match(jun, /✗ friend-welcome ended at .*: unfollowed/);
  assert.match(block('Rin (booked the salon)'), /2026-11-25 15:00 {2}→ reservation\/reminder/);
  // The survey sample: the answer tags the user and switches the rich menu (action steps, issue 18).
  const saki = block('Saki (store QR, answered the survey)');
  assert.match(
    saki,
    /← survey_answered .*\n {2}2026-11-25 18:10 {2}⚙ interest-survey\/tag-skincare +tag \+ interest-skincare/,
  );
  assert.match(saki, /⚙ interest-survey\/tag-skincare +interest = skincare/);
  assert.match(saki, /⚙ interest-survey\/tag-skincare +rich menu → menu-skincare/);
  assert.match(saki, /→ interest-survey\/skincare /);
  assert.doesNotMatch(saki, /✗/);
  assert.match(text, /\d+ ticks in [\d.]+ s; \d+ LINE requests would have gone out .*; 3 change\(s\) by action steps/);
  for (const line of lines) assert.doesNotMatch(line, /https?:\/\/\S*…/, `a URL cut in the middle: ${line}`);
});

test('a summary is never cut inside a URL', () => {
  assert.equal(
    clipText('資料はこちら：https://example.com/seminar/2026/slides.pdf をご覧ください', 20),
    '資料はこちら：…',
  );
  assert.equal(clipText('short', 20), 'short');
  assert.equal(clipText('a'.repeat(30), 10), `${'a'.repeat(9)}…`);
});
