// One escaper for every piece of text that reaches Markdown from outside the code: what a
// scenario's author wrote (names, routes, tags, attribute and filter values, message text),
// what the database holds, what LINE or GitHub answered. The PR comment, the job summaries,
// the report and the alert issue all go through it, so a carriage return cannot close a
// fence, `<!--` cannot hide what follows, `@someone` cannot notify anyone and a bidi control
// cannot make a preview show what is not there: such characters are shown (`<U+202E>`), not
// obeyed. Each function is for one place text sits in Markdown: inline text (a paragraph,
// list item, heading or table cell), an inline code span, a fenced block, a Mermaid label.

/** Every way a line can end in Markdown, plus the Unicode separators a renderer may break on. */
// eslint-disable-next-line no-control-regex -- vertical tab and form feed are what is looked for
const LINE_BREAKS = /\r\n|[\r\n\u000b\u000c\u0085\u2028\u2029]/g;

/**
 * Characters that are invisible or change how the text around them is shown: controls,
 * format characters (bidi embeddings, overrides and isolates, zero-width spaces and joiners,
 * the byte order mark, soft hyphens, tag characters) and the blank "letters" (Hangul fillers,
 * the braille blank). Tab and line breaks are each context's own business.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800]/gu;

/** A zero-width joiner between two pictographs builds one emoji (👩‍💻): that one is kept. */
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}\uFE0F?)\u200d(?=\p{Extended_Pictographic})/gu;

const codePoint = (c: string): string => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`;

/** Invisible and direction-changing characters as `<U+XXXX>`; tab and line feed are left to the caller. */
export function showInvisible(text: string): string {
  const joiners = new Set<number>();
  for (const m of text.matchAll(EMOJI_JOINER)) joiners.add(m.index);
  return text.replace(INVISIBLE, (c, offset: number) =>
    c === '\n' || c === '\t' || joiners.has(offset) ? c : codePoint(c),
  );
}

/** A zero-width space after `@` or `#` stops GitHub's mentions and issue references (as Dependabot does). */
const NO_LINK = '\u200b';

/** ASCII punctuation that starts inline Markdown (emphasis, code, links, HTML, entities, tables, math). */
const INLINE_ACTIVE = /[\\`*_[\]<>|~&$#!]/g;

/**
 * Text for a paragraph, list item, heading or table cell: one line, nothing in it parsed as
 * Markdown or HTML, no mention or issue reference, invisible characters shown.
 */
export function mdText(text: string): string {
  const oneLine = showInvisible(String(text).replace(LINE_BREAKS, ' ').replace(/\t/g, ' ')).trim();
  return (
    oneLine
      .replace(INLINE_ACTIVE, (c) => `\\${c}`)
      // A block can start a list item's content: "- x", "+ x", "---", "1. x".
      .replace(/^([-+=])(?=[\s\-+=]|$)/, '\\$1')
      .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
      .replace(/@(?=[\p{L}\p{N}_-])/gu, `@${NO_LINK}`)
      .replace(/\\#(?=[\p{N}])/gu, `\\#${NO_LINK}`)
      .replace(/(GH-)(?=\d)/gi, `$1${NO_LINK}`)
  );
}

/**
 * An inline code span of the text (ids, file names, values shown as they are): a backtick
 * inside cannot end it, a line break is a space. In a table cell a pipe would still end the
 * cell (GFM splits rows before code spans), so `inTable` escapes it.
 */
export function mdCode(text: string, options: { inTable?: boolean } = {}): string {
  let body = showInvisible(String(text).replace(LINE_BREAKS, ' ').replace(/\t/g, ' '));
  if (options.inTable) body = body.replace(/\|/g, '\\|');
  const fence = '`'.repeat(longestRun(body, '`') + 1);
  // A space on both sides is stripped by the renderer: it lets a backtick start or end the text.
  const pad = /^[` ]|[` ]$/.test(body) || body === '' ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A fenced block of the text, line by line (an issue list, an error's detail): its fence is
 * longer than any run of backticks inside, so no line can close it; a carriage return is a
 * line break like any other. `indent` puts the block inside a list item.
 */
export function mdFence(text: string, options: { info?: string; indent?: string } = {}): string {
  // Only Markdown's own line endings end a line here; other separators are shown.
  const body = showInvisible(String(text).replace(/\r\n?/g, '\n'));
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  const indent = options.indent ?? '';
  const lines = [`${fence}${options.info ?? ''}`, ...body.split('\n'), fence];
  return lines.map((l) => `${indent}${l}`).join('\n');
}

/**
 * A Mermaid label in double quotes (a flowchart node or edge, a chart's title or axis): one
 * line, nothing that ends the quotes, the fence or the statement, no HTML. Flowcharts write a
 * character by its code (#quot; for "); charts (xychart) do not decode codes, so there a
 * look-alike stands in (entities: false).
 */
export function mermaidLabel(text: string, options: { lineBreak?: string; entities?: boolean } = {}): string {
  const oneLine = showInvisible(String(text).replace(LINE_BREAKS, '\n').replace(/\t/g, ' '));
  const body =
    options.entities === false
      ? oneLine.replace(/["`]/g, "'").replace(/</g, '‹').replace(/>/g, '›')
      : oneLine.replace(/["<>{}`]/g, (c) => (c === '"' ? '#quot;' : `#${c.charCodeAt(0)};`));
  return `"${body.replace(/\n/g, options.lineBreak ?? ' · ')}"`;
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}
