// The GitHub REST client (Octokit from @actions/github) and what the action needs to know
// about the workflow run it is part of: the repository, the run's link and the pull request.
import { getOctokit } from '@actions/github';

export type GitHubClient = ReturnType<typeof getOctokit>;

/** The repository and run a comment or an issue belongs to. */
export interface RunTarget {
  owner: string;
  repo: string;
  /** The run's page: `${server_url}/${owner}/${repo}/actions/runs/${run_id}`, its job summary included. */
  runUrl: string;
}

/** The parts of @actions/github's `context` read here, so tests can hand in plain data. */
export interface ContextLike {
  eventName: string;
  payload: { pull_request?: { number: number; [key: string]: unknown } | undefined; [key: string]: unknown };
  repo: { owner: string; repo: string };
  serverUrl: string;
  apiUrl: string;
  runId: number;
}

export interface PullRequestRef {
  number: number;
  /** The base branch's commit the pull request is compared with. */
  baseSha: string | undefined;
  headSha: string | undefined;
}

export function runTarget(context: ContextLike): RunTarget {
  const { owner, repo } = context.repo;
  return { owner, repo, runUrl: `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}` };
}

/** The pull request this run checks, on pull_request (and pull_request_target) events. */
export function pullRequestOf(context: ContextLike): PullRequestRef | undefined {
  const pr = context.payload.pull_request;
  if (!context.eventName?.startsWith('pull_request') || !pr || typeof pr.number !== 'number') return undefined;
  const sha = (side: unknown) => {
    const value = (side as { sha?: unknown } | undefined)?.sha;
    return typeof value === 'string' && value ? value : undefined;
  };
  return { number: pr.number, baseSha: sha(pr.base), headSha: sha(pr.head) };
}

export function openClient(token: string, context: ContextLike): GitHubClient {
  // The base URL is passed on each call: @actions/github reads GITHUB_API_URL once, at import.
  return getOctokit(token, { baseUrl: context.apiUrl });
}

/** The HTTP status of a failed Octokit request (a RequestError), if it was one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
