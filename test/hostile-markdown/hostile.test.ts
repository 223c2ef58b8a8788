// Text from outside (a scenario's names, routes, tags, attribute and filter values, message
// text; LINE's and the database's messages) cannot change the Markdown it lands in: the PR
// preview, the tick's job summary, the report and the alert issue are rendered with a real
// CommonMark renderer (markdown-it, raw HTML on, as GitHub allows some) for hostile text and
// for plain text in the same places, and their structure must be the same: headings, fences
// (and Mermaid blocks, line for line), tables, lists, HTML. No mention, issue reference or HTML
// element of the text comes through, and bidi or invisible characters are shown, not obeyed.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { compileScenario } from '../../src/scenario/compile.js';
import type { Scenario } from '../../src/scenario/schema.js';
import type { ScenarioIssue } from '../../src/scenario/issues.js';
import { previewMarkdown } from '../../src/preview/markdown.js';
import { diffScenarioSets } from '../../src/preview/diff.js';
import { tickSummary } from '../../src/report/summary.js';
import { reportMarkdown } from '../../src/report/report-markdown.js';
import type { PeriodReport } from '../../src/report/period-report.js';
import { alertIssueBody } from '../../src/github/alert-issue.js';
import { previewCommentBody } from '../../src/github/pr-comment.js';
import type { TickResult } from '../../src/engine/index.js';
import { TickCounts } from '../../src/engine/counts.js';
import { mdCode, mdFence, mdText, mermaidLabel, showInvisible } from '../../src/contract/markdown-text.js';

const md = new MarkdownIt({ html: true, linkify: true });
type Token = ReturnType<typeof md.parse>[number];

/** The pieces hostile text is made of: each one breaks unescaped Markdown a different way. */
const HOSTILE = [
  '\r# Injected heading\r',
  '\n\n## another\n',
  '\r```\r# after the fence\r```mermaid\r',
  '```',
  '~~~',
  '<!-- hidden',
  '-->',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '<details><summary>x</summary>',
  '@someone',
  '@org/team',
  '#1',
  'GH-2',
  'shop/line#3',
  '\u202Eevil\u202C',
  '\u2066isolated\u2069',
  '\u200Bzero\u200Dwidth\uFEFF',
  '\u2028line\u2029para',
  '`code`',
  '| pipe |',
  '**bold** _em_',
  '[link](https://example.com)',
  '![img](https://example.com/x.png)',
  '&#8238;entity&lt;',
  '$x^2$',
  '\\',
  '- item',
  '1. first',
  '> quote',
  '    indented',
  '---',
  '"quoted" {braces} [brackets] (parens) #35; #quot;',
  '%%{init: {"theme":"dark"}}%%',
  'end\n  click s0 call alert()',
];
// (A zero-width joiner is allowed only inside an emoji, between two pictographs.)
const BIDI_AND_INVISIBLE =
  /[\u202A-\u202E\u2066-\u2069\u200C\u200E\u200F\u061C\uFEFF\u2028\u2029\r\u00AD]|(?<!\p{Extended_Pictographic})\u200D|\u200D(?!\p{Extended_Pictographic})/u;

/** A scenario with the text in every place a scenario holds free text that the preview shows. */
function scenarioWith(text: string, id = 'hostile'): Scenario {
  return {
    id,
    version: 1,
    name: text,
    entry: { trigger: { type: 'follow', route: text } },
    steps: [
      { id: 'welcome', type: 'message', messages: [{ type: 'text', text }] },
      {
        id: 'ask',
        type: 'branch',
        wait: { after: { hours: 1 } },
        branches: [{ name: text, when: { field: 'user.region', eq: text }, next: 'tag' }],
        default: 'tag',
      },
      {
        id: 'tag',
        type: 'action',
        wait: { after: { days: 1 } },
        tags: { add: [text] },
        attributes: { set: { plan: text } },
      },
    ],
  } as unknown as Scenario;
}

function eventScenarioWith(text: string): Scenario {
  return {
    id: 'cart',
    version: 1,
    name: text,
    entry: { trigger: { type: 'event', event: 'cart_abandoned', where: { category: text, note: { contains: text } } } },
    steps: [{ id: 'remind', type: 'message', messages: [{ type: 'text', text: `${text} ${text}` }] }],
  } as unknown as Scenario;
}

function previewOf(text: string): string {
  const issue: ScenarioIssue = {
    file: 'scenarios/x.json',
    path: ['steps', 0, 'name'],
    line: 3,
    column: 5,
    rule: 'unknown-step',
    message: `the name ${text} is wrong`,
  };
  const scenarios = [scenarioWith(text), eventScenarioWith(text)].map((s) => ({
    compiled: compileScenario(s),
    file: `scenarios/${s.id}.json`,
  }));
  const base = scenarioWith('plain');
  const changed = scenarioWith(text);
  (changed.steps[2] as { tags: { add: string[] } }).tags.add.push(`${text}2`);
  const changes = diffScenarioSets([base], [changed]);
  const markdown = previewMarkdown({
    result: { scenarios, issues: [issue], files: ['scenarios/x.json'] } as never,
    changes,
  });
  return previewCommentBody(markdown, { runUrl: 'https://github.com/shop/line/actions/runs/1' });
}

function summaryOf(text: string): string {
  const counts = new TickCounts();
  counts.add('cart', 'remind', 'sent', 3);
  counts.add('cart', text, 'failed', 300);
  counts.noteFailure('cart', text, `LINE said: ${text}`, 300, 1);
  counts.noteSkip('cart', 'remind', `exited before sending: ${text}`, 2);
  counts.noteSetAside(`property ${text} is not a string`);
  const result = {
    counts,
    attention: { needsReview: 0, setAsideRecent: 0, waitingLink: 0, pendingBatches: 0 },
    previousRunAt: null,
    runId: 'r',
    missingScenarios: [{ id: 'gone', usersInside: 2 }],
    ingestHeld: `only ${text}`,
  } as unknown as TickResult;
  return tickSummary(result, {
    now: Date.parse('2026-12-01T00:00:00Z'),
    store: `Postgres ${text}`,
    sender: 'LINE',
    mode: 'send',
    intervalMinutes: 5,
  });
}

function reportOf(text: string): string {
  const step = (id: string) => ({
    id,
    type: 'message',
    inDefinition: true,
    sent: 5,
    failed: 0,
    expired: 0,
    needsReview: 1,
    waiting: 1,
    exited: 0,
    units: [],
    openRate: { value: null },
    clickRate: { value: null },
    dropOff: 0.5,
  });
  const scenario = {
    id: 'cart',
    name: text,
    timezone: 'Asia/Tokyo',
    status: 'active',
    goal: text,
    entered: 10,
    goalReached: 1,
    waiting: 1,
    finished: 1,
    exited: 1,
    conversions: 1,
    exits: [{ reason: `exit: ${text}`, count: 1 }],
    steps: [step('remind')],
    days: [{ day: '2026-11-30', sent: 5, conversions: 1 }],
    conversionRate: 0.1,
    funnel: [step('remind')],
  };
  const report = {
    period: { from: 0, to: 1, label: 'last 7 days' },
    scenarios: [scenario],
    totals: { entered: 10, sent: 5, goalReached: 1, conversions: 1, exited: 1 },
    days: [{ day: '2026-11-30', sent: 5, conversions: 1 }],
  } as unknown as PeriodReport;
  return reportMarkdown([report], { now: 0, store: 'PGlite', notes: [`⚠️ LINE's statistics: ${text}`] });
}

function alertOf(text: string): string {
  return alertIssueBody(
    {
      reasons: [`scenario x could not be registered: ${text}`, `the scenarios have 1 problem(s):\n${text}\n${text}`],
      failures: [{ scenarioId: 'cart', stepId: text, count: 300, batches: 1, reason: text }],
    },
    { owner: 'shop', repo: 'line', runUrl: 'https://github.com/shop/line/actions/runs/1' },
    Date.parse('2026-12-01T00:00:00Z'),
  );
}

/** The document's block structure: what a reader sees as headings, fences, tables, lists, HTML. */
function structure(tokens: Token[]): string[] {
  return tokens
    .filter((t) => t.block && t.type !== 'inline')
    .map((t) => {
      if (t.type === 'fence') return `fence ${t.info} (${t.content.split('\n').length} lines)`;
      if (t.type === 'html_block') return `html_block ${t.content.trim()}`;
      return `${t.type}${t.tag ? ` ${t.tag}` : ''}`;
    });
}

/** Every inline HTML element and the text a reader sees outside code. */
function inlineParts(tokens: Token[]): { html: string[]; text: string[] } {
  const html: string[] = [];
  const text: string[] = [];
  for (const t of tokens) {
    for (const c of t.children ?? []) {
      if (c.type === 'html_inline') html.push(c.content);
      if (c.type === 'text') text.push(c.content);
    }
  }
  return { html, text };
}

const RENDERERS = { preview: previewOf, summary: summaryOf, report: reportOf, alert: alertOf };

function checkHostile(name: keyof typeof RENDERERS, text: string): void {
  const render = RENDERERS[name];
  // Plain text with the same line breaks: a block made for several lines (a fence) may grow,
  // but only as it would for any text of those lines.
  const plain = md.parse(render(text.replace(/[^\r\n]/gu, 'a')), {});
  const doc = render(text);
  const hostile = md.parse(doc, {});
  // (The text beside the structure, so a failure shows both and the lines that differ.)
  assert.deepEqual({ name, text, structure: structure(hostile) }, { name, text, structure: structure(plain) });
  const parts = inlineParts(hostile);
  assert.deepEqual(parts.html, inlineParts(plain).html, `${name}: no HTML element from the text`);
  for (const t of parts.text) {
    // GitHub links a mention or a reference in text outside code: a word character must not follow.
    assert.doesNotMatch(t, /(^|[^\p{L}\p{N}_])@[\p{L}\p{N}_]/u, `${name}: a mention in ${JSON.stringify(t)}`);
    assert.doesNotMatch(t, /#\d|GH-\d/i, `${name}: a reference in ${JSON.stringify(t)}`);
  }
  const html = md.render(doc);
  const obeyed = BIDI_AND_INVISIBLE.exec(html);
  assert.equal(obeyed && html.slice(Math.max(0, obeyed.index - 40), obeyed.index + 40), null, `${name}: obeyed`);
  assert.doesNotMatch(html, /<(img|script|details)\b[^>]*onerror|<script/i);
}

for (const name of Object.keys(RENDERERS) as (keyof typeof RENDERERS)[]) {
  test(`${name}: each hostile piece leaves the structure as plain text does, with no mention, HTML or hidden character`, () => {
    for (const piece of HOSTILE) checkHostile(name, piece);
    checkHostile(name, HOSTILE.join(' '));
  });

  test(`${name}: any mix of hostile pieces and letters (property)`, () => {
    const text = fc
      .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.constantFrom('a', ' ', 'x\u0301', '日本', '👩\u200D💻')), {
        minLength: 1,
        maxLength: 12,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (t) => checkHostile(name, t)),
      { numRuns: 60 },
    );
  });
}

test('the preview keeps one Mermaid block per scenario, each the same lines as with plain text', () => {
  const fences = (doc: string) =>
    md
      .parse(doc, {})
      .filter((t) => t.type === 'fence' && t.info === 'mermaid')
      .map((t) => t.content.split('\n').length);
  const plain = fences(previewOf('plain'));
  assert.equal(plain.length, 2);
  assert.deepEqual(fences(previewOf(HOSTILE.join(''))), plain);
});

test('bidi and invisible characters are shown by their code point; an emoji built with a joiner is kept', () => {
  assert.equal(showInvisible('a\u202Eb\u200Bc\uFEFF'), 'a<U+202E>b<U+200B>c<U+FEFF>');
  assert.equal(showInvisible('👩\u200D💻'), '👩\u200D💻');
  assert.match(md.render(mdText('\u202Eevil')), /&lt;U\+202E&gt;evil/);
  assert.equal(mdText('line\r\nbreak\rand\nmore'), 'line break and more');
  assert.equal(mdText('20.0% of 1,000'), '20.0% of 1,000');
  assert.equal(mdText('1. not a list'), '1\\. not a list');
});

test('a code span and a fence are longer than any backtick run inside; a Mermaid label cannot end its quotes', () => {
  assert.equal(md.renderInline(mdCode('a ``` b')), '<code>a ``` b</code>');
  assert.equal(md.renderInline(mdCode('`x`')), '<code>`x`</code>');
  const fenced = md.parse(mdFence('x\r```\r# not a heading'), {});
  assert.deepEqual(
    fenced.map((t) => t.type),
    ['fence'],
  );
  assert.equal(fenced[0]!.content, 'x\n```\n# not a heading\n');
  assert.equal(mermaidLabel('a"b<c>\r\nd`'), '"a#quot;b#60;c#62; · d#96;"');
});
