// The CLI's report and inspect: arguments, output, the HTML file, exit codes.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCli } from '../../src/commands/report-cli.js';
import { main } from '../../src/cli/main.js';
import { pgliteStore } from '../support/db.js';
import { jst, U, writeCartWeek } from './fixture.js';
import type { Store } from '../../src/store/store.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

test('report and inspect from the command line: Markdown out, --out writes the page, bad input exits 1 with what to fix', async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  const keep = Object.assign(Object.create(Object.getPrototypeOf(store) as object) as Store, store, {
    close: async () => {},
  });
  const open = async () => keep;
  const saved = { now: process.env.LINE_STEP_DELIVERY_NOW, token: process.env.LINE_CHANNEL_ACCESS_TOKEN };
  process.env.LINE_STEP_DELIVERY_NOW = String(jst(25));
  delete process.env.LINE_CHANNEL_ACCESS_TOKEN;
  try {
    const file = join(await mkdtemp(join(tmpdir(), 'lsd-cli-')), 'week.html');
    const ok = capture();
    assert.equal(
      await reportCli(['report', '--from', '2026-11-16', '--to', '2026-11-22', '--out', file], open, ok.io),
      0,
      ok.err.join(''),
    );
    assert.match(
      ok.out.join(''),
      /## 2026-11-16 → 2026-11-22\n\nEntered 5 · sent 6 · goal reached 2 \(40\.0% of entered\)/,
    );
    assert.match(ok.out.join(''), /no LINE channel access token was given/);
    assert.deepEqual(ok.err, [`wrote ${file}\n`]);
    assert.match(await readFile(file, 'utf8'), /^<!doctype html>/);

    const cases: [string[], RegExp][] = [
      [['report', '--scenario', 'nope'], /^there is no scenario "nope": the database knows cart, welcome\n$/],
      [['report', '--from', '2026-11-22', '--to', '2026-11-01'], /is empty: from must be before to/],
      [
        ['report', '--since', '7'],
        /^line-step-delivery report: Unknown option '--since'[^\n]*\nusage: line-step-delivery report \[--from DATE\]/,
      ],
      [['report', 'extra'], /unexpected argument\(s\) "extra"/],
      [['inspect', U(42)], /^no user with the LINE user id "U0{30}2a" in this database/],
      [['inspect'], /whom\?/],
    ];
    for (const [argv, message] of cases) {
      const bad = capture();
      assert.equal(await reportCli(argv, open, bad.io), 1, argv.join(' '));
      assert.match(bad.err.join(''), message);
      assert.deepEqual(bad.out, []);
    }
    const story = capture();
    assert.equal(await reportCli(['inspect', U(2)], open, story.io), 0);
    assert.match(story.out.join(''), /cart · left 2026-11-18 12:00 at "coupon": exit: purchased/);
    assert.ok(!existsSync('week.html'));
  } finally {
    if (saved.now === undefined) delete process.env.LINE_STEP_DELIVERY_NOW;
    else process.env.LINE_STEP_DELIVERY_NOW = saved.now;
    if (saved.token !== undefined) process.env.LINE_CHANNEL_ACCESS_TOKEN = saved.token;
    await db.close();
  }
});

test('the CLI routes report and inspect, and lists them in --help', async () => {
  const write = process.stdout.write.bind(process.stdout);
  const out: string[] = [];
  process.stdout.write = (c: string) => (out.push(String(c)), true);
  try {
    assert.equal(await main(['report', '--help']), 0);
    assert.equal(await main(['inspect', '--help']), 0);
    assert.equal(await main(['--help']), 0);
  } finally {
    process.stdout.write = write;
  }
  const text = out.join('');
  assert.match(text, /^usage: line-step-delivery report \[--from DATE\]/m);
  assert.match(text, /^usage: line-step-delivery inspect <LINE user id \| member id>/m);
  assert.match(text, /\n {2}report \[--from DATE\] \[--to DATE\] \[--scenario ID\] \[--out FILE\.html\]\n/);
  assert.match(text, /\n {2}inspect <LINE user id \| member id> \[--timezone ZONE\] \[--events N\]\n/);
});
