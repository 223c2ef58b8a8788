// The dispatch function: pg_cron calls it every minute (net.http_post, see
// docs/dispatcher.md); it asks the dispatcher's decision and, when a tick is due, GitHub for
// a run. The caller proves itself with the DISPATCH_SECRET (x-dispatch-secret), so a stranger
// who finds the URL can at most make it decide. The answer names the decision and GitHub's
// answer; no token, no user.
import { timingSafeEqual } from '../_shared/hmac.ts';
import { json } from '../_shared/events.ts';
import { type Dispatcher, startIfDue } from '../_shared/github-dispatch.ts';

export interface DispatchDeps {
  /** DISPATCH_SECRET: the pg_cron job sends it as x-dispatch-secret. */
  secret: string;
  dispatcher: Dispatcher;
}

export async function handleDispatch(req: Request, deps: DispatchDeps): Promise<Response> {
  if (req.method !== 'POST') return json(405, { error: 'POST only' });
  const given = req.headers.get('x-dispatch-secret') ?? '';
  if (!given || !timingSafeEqual(given, deps.secret)) {
    return json(401, { error: 'x-dispatch-secret is missing or wrong: the cron job sends the DISPATCH_SECRET' });
  }
  try {
    const { decision, answer } = await startIfDue(deps.dispatcher, 'cron');
    return json(200, {
      start: decision.start,
      reasons: decision.reasons,
      wait_reason: decision.wait_reason,
      next_due_at: decision.next_due_at,
      ...(answer ? { github: answer } : {}),
    });
  } catch {
    console.error('dispatch: the decision could not be made (the database did not answer)');
    return json(503, { error: 'the database did not answer: the next minute decides again' });
  }
}
