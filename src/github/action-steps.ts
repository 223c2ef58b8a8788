// What the action does on GitHub besides its job summary: the preview as a sticky comment on
// a pull request, and the alert issue after a tick. Each reads its own inputs and the
// workflow's context, and never fails the job for GitHub's sake: a write GitHub refuses
// becomes a notice or a warning, and the job's result stays the scenarios' or the tick's.
import * as core from '@actions/core';
import { context } from '@actions/github';
import { openClient, pullRequestOf, runTarget, statusOf, type ContextLike } from './client.js';
import { previewCommentBody, upsertPreviewComment } from './pr-comment.js';
import { syncAlertIssue, type AlertFailure } from './alert-issue.js';
import { ensureCommit } from './base-commit.js';
import type { RunMode } from '../engine/index.js';
import { mdText } from '../contract/markdown-text.js';

function inRepository(ctx: ContextLike): boolean {
  try {
    return Boolean(ctx.repo.owner && ctx.repo.repo);
  } catch {
    return false; // context.repo throws outside a workflow run (no GITHUB_REPOSITORY)
  }
}

function reason(error: unknown): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return status ? `GitHub answered ${status}: ${message}` : message;
}

/**
 * On a pull_request event, the pull request's base commit (fetched into a shallow clone when
 * missing), for the preview's "what this change does"; otherwise undefined.
 */
export async function pullRequestBase(ctx: ContextLike = context): Promise<string | undefined> {
  const pr = pullRequestOf(ctx);
  if (!pr?.baseSha) return undefined;
  if (!(await ensureCommit(pr.baseSha))) {
    core.info('The base commit could not be fetched: the preview says how to check it out.');
  }
  return pr.baseSha;
}

/**
 * Creates or updates the preview comment on the pull request this run checks. Returns what
 * the job summary should say above the preview when the comment could not be written ('' when
 * it was, or when this is no pull request).
 */
export async function commentPreview(markdown: string, ctx: ContextLike = context): Promise<string> {
  const pr = pullRequestOf(ctx);
  if (!pr || !inRepository(ctx)) return '';
  const token = core.getInput('github-token').trim();
  if (!token) {
    core.info('No github-token: the preview is in the job summary only.');
    return '';
  }
  const target = runTarget(ctx);
  try {
    const body = previewCommentBody(markdown, { runUrl: target.runUrl, headSha: pr.headSha });
    const outcome = await upsertPreviewComment(openClient(token, ctx), target, pr.number, body);
    if (outcome.kind !== 'read-only') {
      const where = outcome.url ? `: ${outcome.url}` : '';
      core.info(`Preview comment ${outcome.kind} on pull request #${pr.number}${where}.`);
      return '';
    }
    const why = isFromFork(ctx)
      ? 'this pull request comes from a fork, and GitHub gives such runs a read-only token'
      : 'the token may not write to pull requests: grant `pull-requests: write` in the workflow';
    core.notice(`The preview is in the job summary, not in a comment: ${why.replace(/`/g, '')}.`);
    return `> [!NOTE]\n> The preview could not be posted as a comment on the pull request: ${why}. Here it is.\n\n`;
  } catch (error) {
    core.warning(`The preview comment could not be written (${reason(error)}); the preview is in the job summary.`);
    const firstLine = reason(error).split('\n')[0];
    return `> [!WARNING]\n> The preview comment could not be written (${mdText(firstLine ?? '')}). Here is the preview.\n\n`;
  }
}

function isFromFork(ctx: ContextLike): boolean {
  type Side = { repo?: { full_name?: string } } | undefined;
  const pr = ctx.payload.pull_request as { head?: Side; base?: Side } | undefined;
  const head = pr?.head?.repo?.full_name;
  return Boolean(head && head !== pr?.base?.repo?.full_name);
}

export interface TickOutcome {
  /** Why a person must act (empty: the tick needed no one). */
  reasons: string[];
  failures: AlertFailure[];
  /** When the tick ran (epoch ms). */
  at: number;
  /** The tick's run mode (undefined when it could not be read): plan-only changes nothing, here too. */
  mode?: RunMode | undefined;
}

function numberOr(name: string, fallback: number): number {
  const n = Number(core.getInput(name).trim() || fallback);
  return Number.isInteger(n) ? n : fallback;
}

/**
 * With `alert-issue: true`, opens, updates or closes the alert issue after a tick. A plan-only
 * tick changes nothing, here too; a tick limited to one scenario or a message cap does not close it.
 */
export async function alertIssueAfterTick(tick: TickOutcome, ctx: ContextLike = context): Promise<void> {
  const wanted = core.getInput('alert-issue').trim();
  if (wanted === '' || /^(false|False|FALSE)$/.test(wanted)) return;
  if (!/^(true|True|TRUE)$/.test(wanted)) {
    core.setFailed(`input alert-issue must be true or false, got "${wanted}"`);
    return;
  }
  if (tick.mode === 'plan-only') return;
  const token = core.getInput('github-token').trim();
  if (!token || !inRepository(ctx)) {
    core.warning(
      'alert-issue: true needs github-token (its default is the workflow token) and a workflow run: no alert issue was updated.',
    );
    return;
  }
  const shard = { index: numberOr('shard-index', 0), count: numberOr('shard-count', 1) };
  const partial = Boolean(core.getInput('only-scenario').trim() || core.getInput('max-messages').trim());
  const report = tick.reasons.length ? { reasons: tick.reasons, failures: tick.failures } : undefined;
  try {
    const target = { ...runTarget(ctx), shard };
    const outcome = await syncAlertIssue(openClient(token, ctx), target, report, { at: tick.at, mayClose: !partial });
    if (outcome.kind !== 'none') core.info(`Alert issue #${outcome.number} ${outcome.kind}.`);
  } catch (error) {
    const hint = statusOf(error) === 403 ? ' Grant `issues: write` in the workflow.' : '';
    core.warning(`The alert issue could not be updated (${reason(error)}).${hint}`);
  }
}
