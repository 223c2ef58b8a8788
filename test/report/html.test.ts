// The HTML report in a real headless browser (Debian's Chromium driven by playwright-core):
// it loads from disk with no console error and no request of any kind, each funnel chart
// has a bar per message step of its scenario, it holds no user id or message text, and
// screenshots are taken for review: in a temporary folder, or with LSD_SCREENSHOTS_DIR=docs
// over the ones the README shows (docs/report-screenshot.png, report-screenshot-empty.png).
// Without a Chromium this file is skipped (test/setup/browser.ts says so in one line); CI
// installs it and sets LSD_REQUIRE_BROWSER=1 (.ci/run), and then a missing one fails.
import { afterAll, beforeAll, inject, test as anyTest } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { fetchPeriodReport } from '../../src/report/period-report.js';
import { reportHtml } from '../../src/report/report-html.js';
import { pgliteStore } from '../support/db.js';
import { WEEK, writeCartWeek, jst } from './fixture.js';
import { MONTH, writeSampleMonth } from './sample-month.js';

const SHOTS = process.env.LSD_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'lsd-report-shots-'));

const CHROMIUM = inject('chromium');
const test = anyTest.skipIf(!CHROMIUM);
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
let browser: Browser;

beforeAll(async () => {
  if (!CHROMIUM) return;
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
afterAll(async () => {
  await browser?.close();
});

/** Opens the page from a file; returns what the browser saw: console errors, requests, and the funnels' bars. */
async function open(html: string, screenshot?: string) {
  const dir = await mkdtemp(join(tmpdir(), 'lsd-report-'));
  const file = join(dir, 'report.html');
  await writeFile(file, html);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(file).href) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const funnels = await page.$$eval('svg[data-chart="funnel"]', (svgs) =>
    svgs.map((s) => ({
      scenario: s.getAttribute('data-scenario'),
      bars: [...s.querySelectorAll('rect.bar')].map((r) => r.getAttribute('data-step')),
    })),
  );
  const engagement = await page.$$eval('svg[data-chart="engagement"]', (svgs) =>
    svgs.map((s) => s.querySelectorAll('rect.bar').length),
  );
  const days = await page.$$eval('svg[data-chart="days"] rect.day', (rects) => rects.length);
  const quiet = await page.$$eval('p.scenario.quiet', (lines) => lines.map((l) => l.getAttribute('data-scenario')));
  const visibleText = await page.innerText('body');
  // The styles apply (a rule left open would drop every rule after it).
  // (A string, evaluated in the page: this project's TypeScript has no DOM types.)
  // (A page without a table, one of quiet scenarios only, gives null for it.)
  const styled = await page.evaluate<{ swatch: string; table: string | null; footer: string }>(`(() => {
    const style = (selector) => { const found = document.querySelector(selector); return found && getComputedStyle(found); };
    return { swatch: style('.legend i').width, table: style('table')?.borderCollapse ?? null, footer: style('footer').fontSize };
  })()`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  return { errors, requests, funnels, engagement, days, quiet, visibleText, styled };
}

test('the page loads from disk with no console error and no request; each funnel has a bar per message step', async () => {
  const { store, db } = await pgliteStore();
  await writeCartWeek(store, db);
  const report = await fetchPeriodReport(store, { ...WEEK, label: 'the week of 11-16' });
  const html = reportHtml([report], { now: jst(25), store: 'PGlite', notes: ['<b>not markup</b>'] });
  const seen = await open(html);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.requests, [], 'no network: the page is self-contained');
  assert.deepEqual(seen.funnels, [{ scenario: 'cart', bars: ['reminder', 'coupon', 'last'] }]);
  assert.deepEqual(seen.engagement, [9], 'sent, opened and clicked for each message step');
  assert.deepEqual(seen.quiet, ['welcome'], 'nobody entered welcome in the week: one line, no chart');
  assert.equal(seen.days, 7, 'a bar per day of the week');
  assert.match(seen.visibleText, /<b>not markup<\/b>/, 'notes are text, never markup');
  assert.deepEqual(seen.styled, { swatch: '10px', table: 'collapse', footer: '12px' });
  assert.doesNotMatch(html, /U[0-9a-f]{32}/, 'no LINE user id');
  assert.ok(!html.includes('secret'), 'no message text');
  // A period with nothing in it: a line per scenario, the day chart's ticks 0, 1, 2.
  const empty = await fetchPeriodReport(store, { from: jst(1), to: jst(8), label: 'the first week of November' });
  const nothing = await open(
    reportHtml([empty], { now: jst(25), store: 'PGlite', notes: [] }),
    join(SHOTS, 'report-screenshot-empty.png'),
  );
  assert.deepEqual(nothing.errors, []);
  assert.deepEqual(nothing.funnels, []);
  assert.deepEqual(nothing.quiet, ['cart', 'welcome']);
  assert.equal(nothing.days, 7);
  assert.deepEqual(nothing.styled, { swatch: '10px', table: null, footer: '12px' });
  await db.close();
});

test('a month of three sample scenarios: every funnel has its message steps as bars; the screenshot is written', async () => {
  const { scenarios } = await loadScenarioDir('scenarios');
  const picked = ['cart-abandoned', 'friend-welcome', 'after-purchase'].map(
    (id) => scenarios.find((s) => s.scenario.id === id)!.compiled,
  );
  const { store, db } = await pgliteStore();
  await writeSampleMonth(store, db, picked);
  const report = await fetchPeriodReport(store, MONTH);
  const html = reportHtml([report], { now: MONTH.to + 3_600_000, store: 'Supabase (HTTP API)', notes: [] });
  const seen = await open(html, join(SHOTS, 'report-screenshot.png'));
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.requests, []);
  assert.deepEqual(
    seen.funnels,
    [...picked]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((c) => ({ scenario: c.id, bars: c.scenario.steps.filter((s) => s.type === 'message').map((s) => s.id) })),
  );
  assert.equal(seen.days, 30);
  const texts = picked
    .flatMap((c) => c.scenario.steps.flatMap((s) => (s.type === 'message' ? s.messages : [])))
    .flatMap((m) => ('text' in m && typeof m.text === 'string' ? [m.text] : []));
  assert.ok(texts.length > 0);
  for (const t of texts) assert.ok(!html.includes(t), 'no message text in the page');
  assert.doesNotMatch(html, /U[0-9a-f]{32}/);
  assert.ok(existsSync(join(SHOTS, 'report-screenshot.png')));
  await db.close();
});
