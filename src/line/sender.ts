// The sender port: what the tick needs from LINE. One batch in, one outcome out.
import type { OutboxBatch, RichMenuBatch, SendOutcome } from '../domain.js';

export interface SendReport {
  outcome: SendOutcome;
  /** LINE's x-line-request-id (or x-line-accepted-request-id on a 409). */
  requestId?: string | undefined;
  error?: { status?: number; message: string; details?: unknown } | undefined;
  /** Stop sending for this tick: the monthly limit is reached, or the token is refused. */
  stop?: 'monthly_limit' | 'unauthorized' | undefined;
}

export interface Quota {
  /** null: no monthly limit. */
  limit: number | null;
  used: number;
}

export interface Sender {
  readonly label: string;
  /** Requests in flight at once (default 1). */
  readonly concurrency?: number;
  send(batch: OutboxBatch): Promise<SendReport>;
  /** Links or unlinks the recipients' rich menu (an action step; src/line/rich-menu.ts). */
  richMenu?(batch: RichMenuBatch): Promise<SendReport>;
  quota?(): Promise<Quota | undefined>;
}

/**
 * Run mode no-line (and plan-only, which never sends): LINE is not called; each batch is
 * recorded here and answered as sent, so the tick's state advances as if it had been.
 * The local demo and the CLI without a token use it too.
 */
export class NoLineSender implements Sender {
  /** The summary says "LINE: not called" beside the run mode. */
  readonly label = 'not called';
  readonly sent: OutboxBatch[] = [];

  send(batch: OutboxBatch): Promise<SendReport> {
    this.sent.push(batch);
    return Promise.resolve({ outcome: 'sent', requestId: `no-line-${batch.id}` });
  }

  /** Rich menu changes are recorded the same way (issue 18). */
  readonly richMenus: RichMenuBatch[] = [];

  richMenu(batch: RichMenuBatch): Promise<SendReport> {
    this.richMenus.push(batch);
    return Promise.resolve({ outcome: 'sent', requestId: `no-line-${batch.id}` });
  }
}
