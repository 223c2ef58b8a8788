// Rich menu batches of the outbox (issue 18): link a rich menu to users, or unlink theirs,
// through the SDK's client. One recipient: the per-user endpoints (POST and DELETE
// /v2/bot/user/{userId}/richmenu); several: the bulk ones (POST /v2/bot/richmenu/bulk/link
// and bulk/unlink, at most 500 users, answered 202). An alias is resolved with GET
// /v2/bot/richmenu/alias/{id}, once per tick.
//
// LINE takes no X-Line-Retry-Key on these endpoints, and needs none: they are idempotent
// by nature. Linking the same menu to a user twice leaves the user with that menu, and
// unlinking twice leaves none, so an answer that never came (a timeout, a 5xx) is simply
// retried, and a crash between LINE's answer and the record sends it again next tick with
// the same effect. What must not happen is an older change landing after a newer one:
// RichMenuOrder sends a user's batches in the order they were claimed (created order).
// (LINE applies a bulk request after answering 202; a per-user change of the same user sent
// moments later could in principle land first. Within one page of planning a user has one
// change at most: src/line/batching.ts keeps the last.)
import { HTTPFetchError, type messagingApi } from '@line/bot-sdk';
import type { RichMenuBatch, RichMenuPayload, SendOutcome } from '../domain.js';
import { withTimeout } from './line-calls.js';
import type { RateLimiter } from './rate-limiter.js';
import { jitteredBackoff, sendWithRetries } from './retrying.js';
import type { SendReport } from './sender.js';

export interface RichMenuLinkerOptions {
  client: messagingApi.MessagingApiClient;
  /** LINE's limit for these endpoints is its default one (2,000 a second): the push pace. */
  limiter: RateLimiter;
  timeoutMs: number;
  maxRetries: number;
  backoffMs: number;
  sleep: (ms: number) => Promise<void>;
}

/** LINE's answer to one request: a status, or none at all (thrown: a timeout, a dropped connection). */
interface Answer {
  status: number;
  requestId?: string | undefined;
  body?: string | undefined;
}

const target = (batch: RichMenuBatch): RichMenuPayload | undefined => batch.messages[0];

/** LINE's reason: its message and the status it answered. */
function message(answer: Answer): string {
  try {
    const parsed = JSON.parse(answer.body ?? '') as { message?: unknown };
    if (typeof parsed.message === 'string') return `${parsed.message} (LINE answered ${answer.status})`;
  } catch {
    // not JSON: the status says it
  }
  return `LINE answered ${answer.status}`;
}

/** A failed rich menu change, said as one: "rich menu not linked: <why>". */
function richMenuFailure(report: SendReport, what: 'not linked' | 'not unlinked'): SendReport {
  if (report.outcome !== 'failed') return report;
  const why = report.error?.message ?? 'LINE refused it';
  return { ...report, error: { ...report.error, message: `rich menu ${what}: ${why}` } };
}

export class RichMenuLinker {
  /** Alias id to rich menu id (or LINE's refusal), for this sender's tick. */
  private readonly aliases = new Map<string, Promise<{ richMenuId: string } | { report: SendReport }>>();

  constructor(private readonly o: RichMenuLinkerOptions) {}

  /**
   * A failure is said as a rich menu failure with LINE's reason, never as a message's: the
   * step's tag and attribute changes were made when it was planned and stand (docs/scenario-safety.md).
   */
  async send(batch: RichMenuBatch): Promise<SendReport> {
    const what = target(batch);
    const unlinking = batch.kind === 'richmenu_unlink' || (what !== undefined && 'unlink' in what);
    return richMenuFailure(await this.change(batch), unlinking ? 'not unlinked' : 'not linked');
  }

  private async change(batch: RichMenuBatch): Promise<SendReport> {
    const what = target(batch);
    if (!what) return { outcome: 'failed', error: { message: 'the rich menu batch names no rich menu' } };
    if (batch.kind === 'richmenu_unlink' || 'unlink' in what) return this.attempt(() => this.unlink(batch.recipients));
    let richMenuId: string;
    if ('alias' in what) {
      const resolved = await this.resolve(what.alias);
      if ('report' in resolved) return resolved.report;
      richMenuId = resolved.richMenuId;
    } else richMenuId = what.richMenuId;
    return this.attempt(() => this.link(richMenuId, batch.recipients));
  }

  private link(richMenuId: string, users: string[]): Promise<Answer> {
    const { client } = this.o;
    return this.call(
      users.length === 1
        ? client.linkRichMenuIdToUserWithHttpInfo(users[0]!, richMenuId)
        : client.linkRichMenuIdToUsersWithHttpInfo({ richMenuId, userIds: users }),
    );
  }

  private unlink(users: string[]): Promise<Answer> {
    const { client } = this.o;
    return this.call(
      users.length === 1
        ? client.unlinkRichMenuIdFromUserWithHttpInfo(users[0]!)
        : client.unlinkRichMenuIdFromUsersWithHttpInfo({ userIds: users }),
    );
  }

  /** Any status LINE answers becomes an Answer; no answer at all rejects. */
  private async call(request: Promise<{ httpResponse: Response }>): Promise<Answer> {
    try {
      const { httpResponse } = await withTimeout(request, this.o.timeoutMs);
      return {
        status: httpResponse.status,
        requestId: httpResponse.headers.get('x-line-request-id') ?? undefined,
      };
    } catch (error) {
      if (error instanceof HTTPFetchError)
        return {
          status: error.status,
          requestId: error.headers.get('x-line-request-id') ?? undefined,
          body: error.body,
        };
      throw error;
    }
  }

  /** An alias's rich menu id, asked once per alias; an unknown alias fails its batches. */
  private resolve(alias: string): Promise<{ richMenuId: string } | { report: SendReport }> {
    let known = this.aliases.get(alias);
    if (!known) {
      known = this.lookUp(alias);
      this.aliases.set(alias, known);
      // A lookup that got no answer is asked again by the next batch.
      void known.then((r) => {
        if ('report' in r && r.report.outcome !== 'failed') this.aliases.delete(alias);
      });
    }
    return known;
  }

  private async lookUp(alias: string): Promise<{ richMenuId: string } | { report: SendReport }> {
    let richMenuId: string | undefined;
    const report = await this.attempt(async () => {
      try {
        const answer = await withTimeout(this.o.client.getRichMenuAlias(alias), this.o.timeoutMs);
        richMenuId = answer.richMenuId;
        return { status: 200 };
      } catch (error) {
        if (error instanceof HTTPFetchError) return { status: error.status, body: error.body };
        throw error;
      }
    });
    if (richMenuId !== undefined) return { richMenuId };
    // A lookup changes nothing at LINE: without an answer, it is not sent, only deferred.
    const outcome: SendOutcome = report.outcome === 'uncertain' ? 'deferred' : report.outcome;
    const why = report.outcome === 'failed' ? `unknown rich menu alias "${alias}"` : 'the rich menu alias was not read';
    return { report: { ...report, outcome, error: { ...report.error, message: `${why}: ${report.error?.message}` } } };
  }

  /**
   * One request, retried after a 5xx, a timeout or a rate-limit 429 (the same request:
   * harmless, see above). 400 and 404 (an unknown rich menu, a bad user id) fail the batch.
   */
  private attempt(request: () => Promise<Answer>): Promise<SendReport> {
    const { limiter, maxRetries, backoffMs, sleep } = this.o;
    return sendWithRetries({ limiter, maxRetries, backoff: jitteredBackoff(backoffMs), sleep }, request, (answer) =>
      answer.status >= 200 && answer.status < 300
        ? { accepted: true, requestId: answer.requestId }
        : { accepted: false, error: { status: answer.status, message: message(answer) } },
    );
  }
}

/**
 * Sends a user's rich menu batches one after another, in the order they were handed in
 * (the claim's created order). A batch one of whose recipients has an earlier change this
 * tick that did not settle (deferred or uncertain) is held back too, so that the older
 * change, retried next tick, never lands after the newer one.
 */
export class RichMenuOrder {
  private readonly tails = new Map<string, Promise<SendOutcome>>();

  send(batch: RichMenuBatch, run: () => Promise<SendReport>): Promise<SendReport> {
    const earlier = batch.recipients.flatMap((u) => this.tails.get(u) ?? []);
    const report = Promise.all(earlier).then((outcomes): Promise<SendReport> | SendReport =>
      outcomes.some((o) => o === 'deferred' || o === 'uncertain')
        ? {
            outcome: 'deferred',
            error: { message: 'held back: an earlier rich menu change of a recipient is not settled yet' },
          }
        : run(),
    );
    const outcome = report.then(
      (r) => r.outcome,
      (): SendOutcome => 'deferred',
    );
    for (const u of batch.recipients) this.tails.set(u, outcome);
    return report;
  }
}
