// The start of a tick (issue 28): the dispatcher's decision (lsd_dispatch_decide) and, when
// it answers start (having recorded the start), GitHub's workflow dispatch, one request,
// POST /repos/{owner}/{repo}/actions/workflows/{file}/dispatches with {ref, inputs}, whose
// answer is recorded (lsd_dispatch_answer) in words a person can act on. Self-contained
// (fetch only, no imports), so the Deno functions and the Node tests run the same code.

/** What to start: the dispatcher's settings, as lsd_dispatch_decide answers them. */
export interface StartRequest {
  owner: string;
  repo: string;
  workflow: string;
  ref: string;
  inputs: Record<string, string>;
}

/** GitHub's answer, as lsd_dispatch_answer records it. */
export interface StartAnswer {
  outcome: 'started' | 'refused' | 'rate_limited' | 'failed';
  http_status: number | null;
  /** What happened and what to do; never the token. */
  answer: string;
  /** Epoch ms: when a rate-limited start may be asked again. */
  retry_at: number | null;
}

export interface GitHubCallOptions {
  token: string;
  /** https://api.github.com unless a test points it elsewhere. */
  apiUrl?: string | undefined;
  fetch?: typeof fetch;
  now?: () => number;
  /** Give up on an answer after this long (default 10 s): the next minute asks again. */
  timeoutMs?: number;
}

export const GITHUB_API = 'https://api.github.com';

/** The URL of the dispatches endpoint (each part escaped). */
export function dispatchUrl(req: StartRequest, apiUrl = GITHUB_API): string {
  const part = encodeURIComponent;
  return `${apiUrl.replace(/\/+$/, '')}/repos/${part(req.owner)}/${part(req.repo)}/actions/workflows/${part(req.workflow)}/dispatches`;
}

/** Asks GitHub for a run of the workflow; never throws. */
export async function requestWorkflowRun(req: StartRequest, options: GitHubCallOptions): Promise<StartAnswer> {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(dispatchUrl(req, options.apiUrl), {
      method: 'POST',
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${options.token}`,
        'content-type': 'application/json',
        'user-agent': 'line-step-delivery-dispatcher',
        'x-github-api-version': '2022-11-28',
      },
      body: JSON.stringify({ ref: req.ref, inputs: req.inputs }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const what = error instanceof Error && error.name === 'TimeoutError' ? 'no answer in time' : 'no connection';
    return {
      outcome: 'failed',
      http_status: null,
      answer: `GitHub did not answer (${what}): the next minute asks again`,
      retry_at: null,
    };
  }
  const text = await res.text().catch(() => '');
  return classifyAnswer(req, res.status, res.headers, text, now());
}

/** GitHub's message from an error body, short, or '' (it names no secret). */
function messageOf(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    return typeof m === 'string' ? m.slice(0, 200) : '';
  } catch {
    return '';
  }
}

/** When a rate-limited request may be made again (retry-after, else x-ratelimit-reset, else a minute). */
function retryAt(headers: Headers, now: number): number {
  const after = Number(headers.get('retry-after'));
  if (headers.get('retry-after') !== null && Number.isFinite(after)) return now + after * 1000;
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (headers.get('x-ratelimit-reset') !== null && Number.isFinite(reset) && reset * 1000 > now) return reset * 1000;
  return now + 60_000;
}

function isRateLimit(status: number, headers: Headers): boolean {
  if (status === 429) return true;
  return status === 403 && (headers.get('x-ratelimit-remaining') === '0' || headers.get('retry-after') !== null);
}

/** The answer of the dispatches endpoint, classed, with what a person should do. */
export function classifyAnswer(
  req: StartRequest,
  status: number,
  headers: Headers,
  text: string,
  now: number,
): StartAnswer {
  const repo = `${req.owner}/${req.repo}`;
  const said = messageOf(text);
  const quoted = said ? `: "${said}"` : '';
  const refused = (answer: string): StartAnswer => ({
    outcome: 'refused',
    http_status: status,
    answer,
    retry_at: null,
  });
  if (status === 204 || status === 200) {
    return {
      outcome: 'started',
      http_status: status,
      answer: `GitHub accepted the start of ${req.workflow} on ${req.ref}`,
      retry_at: null,
    };
  }
  if (isRateLimit(status, headers)) {
    const at = retryAt(headers, now);
    return {
      outcome: 'rate_limited',
      http_status: status,
      answer: `GitHub's rate limit (${status}${quoted}): asked again after ${new Date(at).toISOString()}`,
      retry_at: at,
    };
  }
  if (status === 401) {
    return refused(
      `the token was refused (401${quoted}): it is missing, expired or revoked; set a fine-grained token with Actions: write on ${repo} as the GITHUB_DISPATCH_TOKEN secret`,
    );
  }
  if (status === 403)
    return refused(
      `the token lacks Actions: write on ${repo} (403${quoted}): give it that permission on this repository`,
    );
  if (status === 404) {
    return refused(
      `GitHub found no workflow ${req.workflow} in ${repo} (404${quoted}): check owner, repo and workflow (the file name under .github/workflows), and that the token can see ${repo}`,
    );
  }
  if (status === 422) return refused(unprocessable(req, said, quoted));
  return {
    outcome: 'failed',
    http_status: status,
    answer: `GitHub could not start the run (${status}${quoted}): the next minute asks again`,
    retry_at: null,
  };
}

/** 422: the workflow is not on the ref, has no workflow_dispatch trigger, or refuses the inputs. */
function unprocessable(req: StartRequest, said: string, quoted: string): string {
  if (/workflow_dispatch/i.test(said)) {
    return `the workflow ${req.workflow} on ${req.ref} has no workflow_dispatch trigger (422${quoted}): add "workflow_dispatch:" under its "on:" and push it to ${req.ref}`;
  }
  if (/input/i.test(said)) {
    return `the workflow ${req.workflow} on ${req.ref} does not take the inputs ${Object.keys(req.inputs).join(', ') || '(none)'} (422${quoted}): declare them under workflow_dispatch.inputs, or change the dispatcher's inputs`;
  }
  return `the workflow file ${req.workflow} is not on ref ${req.ref}, or ${req.ref} does not exist (422${quoted}): push the workflow to ${req.ref}, or set the dispatcher's ref`;
}

/** One SQL function by RPC (the service-role client, or a direct connection in tests). */
export type CallSql = (fn: string, payload: Record<string, unknown>) => Promise<unknown>;

export interface Dispatcher {
  call: CallSql;
  /** GITHUB_DISPATCH_TOKEN: fine-grained, Actions: write on the one repository. */
  token: string | undefined;
  /** GITHUB_API_URL (tests point it at a loopback server). */
  apiUrl?: string | undefined;
}

export interface Decision {
  start: boolean;
  reasons: string[];
  next_due_at: number | null;
  wait_reason: string | null;
  dispatch_id: number | null;
  request: StartRequest | null;
}

export interface StartOutcome {
  decision: Decision;
  /** GitHub's answer, when a start was asked for. */
  answer?: StartAnswer;
}

const NO_TOKEN: StartAnswer = {
  outcome: 'refused',
  http_status: null,
  answer:
    'no GitHub token: set the GITHUB_DISPATCH_TOKEN secret (a fine-grained token with Actions: write on the repository): supabase secrets set GITHUB_DISPATCH_TOKEN=...',
  retry_at: null,
};

/** Decides, and when the answer is start, asks GitHub and records its answer. */
export async function startIfDue(dispatcher: Dispatcher, origin: string): Promise<StartOutcome> {
  const decision = (await dispatcher.call('lsd_dispatch_decide', { origin, record: true })) as Decision;
  if (!decision.start || !decision.request || decision.dispatch_id === null) return { decision };
  const answer = dispatcher.token
    ? await requestWorkflowRun(decision.request, { token: dispatcher.token, apiUrl: dispatcher.apiUrl })
    : NO_TOKEN;
  await dispatcher.call('lsd_dispatch_answer', { id: decision.dispatch_id, ...answer });
  return { decision, answer };
}
