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

/** Who the token is: a person's account (a personal token), or an app's bot (the workflow's GITHUB_TOKEN, an app token). */
export interface Identity {
  login: string;
  kind: 'user' | 'bot';
}

/** The account the workflow's GITHUB_TOKEN writes as. */
export const ACTIONS_BOT = 'github-actions[bot]';

/**
 * The token's own account, found through the API: GET /user answers for a personal token;
 * an app's installation token (GITHUB_TOKEN among them) is refused there, and GraphQL's
 * viewer names its bot. When both refuse, the workflow's bot is assumed: a comment or issue
 * by anyone else is then never taken for this action's own (at worst a second one is made).
 */
export async function whoAmI(client: GitHubClient): Promise<Identity> {
  try {
    const { data } = await client.rest.users.getAuthenticated();
    return { login: data.login, kind: data.type === 'Bot' ? 'bot' : 'user' };
  } catch (error) {
    if (![401, 403, 404].includes(statusOf(error) ?? 0)) throw error;
  }
  try {
    const answer = await client.graphql<{ viewer?: { login?: unknown } }>('query { viewer { login } }');
    if (typeof answer.viewer?.login === 'string' && answer.viewer.login)
      return { login: answer.viewer.login, kind: 'bot' };
  } catch {
    // Refused or not served: fall through to the workflow's bot.
  }
  return { login: ACTIONS_BOT, kind: 'bot' };
}

/**
 * True when a comment or issue was written by the token's own account. An app's bot is
 * written "name[bot]" by REST and "name" by GraphQL, and only an app can be of type Bot, so
 * a person cannot pass for it whatever their login; a personal token's account must match
 * exactly and not be a bot.
 */
export function writtenBy(
  author: { login?: string | null; type?: string | null } | null | undefined,
  me: Identity,
): boolean {
  if (!author?.login) return false;
  const plain = (login: string) => login.toLowerCase().replace(/\[bot\]$/, '');
  if (me.kind === 'bot') return author.type === 'Bot' && plain(author.login) === plain(me.login);
  return author.type !== 'Bot' && author.login.toLowerCase() === me.login.toLowerCase();
}
