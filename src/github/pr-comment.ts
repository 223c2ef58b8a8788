// The PR preview as one sticky comment: created on the first run of the check, updated in
// place on every later push (found again by a hidden marker in a comment this action's own
// account wrote: anyone can copy the marker, nobody else can write as that account), cut
// below GitHub's comment limit with a link to the run's job summary, where the whole
// preview always is.
import { statusOf, whoAmI, writtenBy, type GitHubClient, type RunTarget } from './client.js';

export const PREVIEW_MARKER = '<!-- line-step-delivery:preview -->';
/** GitHub refuses a comment body longer than this many characters. */
export const COMMENT_LIMIT = 65_536;
/** What a cut preview may take: well under the limit, leaving room for the notice and footer. */
const PREVIEW_BUDGET = 63_000;

export type CommentOutcome =
  | { kind: 'created' | 'updated'; id: number; url: string | undefined }
  /** The token may not write (a pull request from a fork): the preview stays in the job summary. */
  | { kind: 'read-only' };

export interface CommentBodyOptions {
  runUrl: string;
  /** The pull request's head commit, named in the footer so a reader sees which push it shows. */
  headSha?: string | undefined;
}

export function previewCommentBody(markdown: string, { runUrl, headSha }: CommentBodyOptions): string {
  const which = headSha ? `Preview of ${headSha.slice(0, 7)}, updated on every push` : 'Updated on every push';
  const footer = `\n---\n<sub>${which} by line-step-delivery · [the run](${runUrl})</sub>\n`;
  const whole = `${PREVIEW_MARKER}\n${markdown.trimEnd()}\n${footer}`;
  if (whole.length <= PREVIEW_BUDGET) return whole;
  const cutNotice =
    '\n> ✂️ **The preview is cut here**: it is longer than a GitHub comment may be ' +
    `(${COMMENT_LIMIT.toLocaleString('en-US')} characters). ` +
    `The whole preview is in [the run's job summary](${runUrl}).\n`;
  const room = PREVIEW_BUDGET - PREVIEW_MARKER.length - cutNotice.length - footer.length;
  return `${PREVIEW_MARKER}\n${cutMarkdown(markdown, room)}\n${cutNotice}${footer}`;
}

/**
 * The markdown's first lines that fit in `budget` characters. A cut inside a fenced block
 * closes it; a diagram (mermaid) cut in half would not render, so it is left out whole.
 */
export function cutMarkdown(markdown: string, budget: number): string {
  const lines = markdown.split('\n');
  const kept: string[] = [];
  let length = 0;
  let fenceStart: number | undefined;
  let fenceIsDiagram = false;
  for (const line of lines) {
    if (length + line.length + 1 > budget - 4) break; // 4: a closing fence may be added
    kept.push(line);
    length += line.length + 1;
    const fence = line.match(/^\s*```\s*(\S*)/);
    if (!fence) continue;
    if (fenceStart === undefined) {
      fenceStart = kept.length - 1;
      fenceIsDiagram = fence[1] === 'mermaid';
    } else {
      fenceStart = undefined;
    }
  }
  if (fenceStart !== undefined) {
    if (fenceIsDiagram) kept.length = fenceStart;
    else kept.push('```');
  }
  return kept.join('\n');
}

/** Creates the preview comment on the pull request, or updates the one an earlier run wrote. */
export async function upsertPreviewComment(
  client: GitHubClient,
  target: RunTarget,
  pullNumber: number,
  body: string,
): Promise<CommentOutcome> {
  const { owner, repo } = target;
  try {
    const listing = { owner, repo, issue_number: pullNumber, per_page: 100 };
    const comments = await client.paginate(client.rest.issues.listComments, listing);
    const marked = comments.filter((c) => c.body?.includes(PREVIEW_MARKER));
    // Who this token is, asked only when some comment carries the marker.
    const me = marked.length ? await whoAmI(client) : undefined;
    const earlier = me && marked.find((c) => writtenBy(c.user, me));
    if (earlier) {
      const { data } = await client.rest.issues.updateComment({ owner, repo, comment_id: earlier.id, body });
      return { kind: 'updated', id: data.id, url: data.html_url };
    }
    const { data } = await client.rest.issues.createComment({ owner, repo, issue_number: pullNumber, body });
    return { kind: 'created', id: data.id, url: data.html_url };
  } catch (error) {
    // GitHub gives a fork's pull request a read-only token whatever the workflow asks for.
    if (statusOf(error) === 403) return { kind: 'read-only' };
    throw error;
  }
}
