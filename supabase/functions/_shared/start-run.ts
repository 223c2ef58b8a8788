// A webhook's ask for a tick (issue 28): the dispatcher's decision and, when it says start,
// GitHub's workflow dispatch (startIfDue, in github-dispatch.ts, which the dispatch function
// calls every minute). However many ask at once, the decision, serialized in the database,
// starts one run.
import { type Dispatcher, startIfDue } from './github-dispatch.ts';

export type { Dispatcher } from './github-dispatch.ts';

/**
 * A webhook's ask, after it recorded events: never fails the webhook (its events are
 * stored; the cron job decides again within a minute). On Supabase the work goes on after
 * the answer (EdgeRuntime.waitUntil), so LINE is answered at once; elsewhere it is awaited.
 */
export async function askForStart(dispatcher: Dispatcher | undefined, origin: string): Promise<void> {
  if (!dispatcher) return;
  const work = startIfDue(dispatcher, origin).then(
    (o) => {
      if (o.answer && o.answer.outcome !== 'started') console.warn(`${origin}: dispatcher: ${o.answer.answer}`);
    },
    () =>
      console.warn(`${origin}: dispatcher: the decision could not be made now; the cron job decides within a minute`),
  );
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil?: (p: Promise<unknown>) => void } }).EdgeRuntime;
  if (runtime?.waitUntil) runtime.waitUntil(work);
  else await work;
}
