// What a tick did, counted per scenario and step: the job summary and the outputs read
// these. Counts and reasons only: never a user id or a message text.
export type Counted =
  | 'enrolled'
  | 'planned'
  | 'capped'
  | 'sent'
  | 'deferred'
  | 'skipped'
  | 'expired'
  | 'failed'
  | 'exited'
  | 'finished'
  | 'conversions'
  | 'branched'
  /** Action steps done (tags, attributes, rich menu): issue 18. */
  | 'acted'
  /** Steps not sent because the user is in the scenario's holdout group (docs/measuring.md). */
  | 'heldOut';

export class TickCounts {
  readonly byScenario = new Map<string, Map<string, Partial<Record<Counted, number>>>>();
  /** count: recipients who did not get the step; batches: LINE requests refused (0 for a failure before sending). */
  readonly failures: { scenarioId: string; stepId: string; reason: string; count: number; batches: number }[] = [];
  /** Recipients dropped from the outbox because they left before it was sent, by reason. */
  readonly skips: { scenarioId: string; stepId: string; reason: string; count: number }[] = [];
  /** Events set aside in this tick, by reason (reasons name keys and types, never a value). */
  readonly setAsideReasons = new Map<string, number>();
  eventsTaken = 0;
  eventsSetAside = 0;
  eventsWaitingLink = 0;
  recipientsPlanned = 0;
  lostLeases = 0;
  needsReview = 0;
  heldBackByMaxMessages = false;
  /** Recipients held by the quota reserve (quota-reserve), not by LINE's monthly limit itself. */
  heldBackByQuota = 0;
  /** Recipients held because LINE's monthly limit leaves too few messages (learned from LINE's quota endpoints). */
  heldBackByMonthlyLimit = 0;
  uncertain = 0;
  quota: { limit: number | null; usedBefore: number } | undefined;
  /** Why LINE's quota could not be read before sending (then neither the limit nor the reserve was checked). */
  quotaUnread: string | undefined;
  /** What action steps did (issue 18): users whose tags or attributes changed; rich menus linked and unlinked. */
  readonly actions = { tagUsers: 0, attributeUsers: 0, richMenuPlanned: 0, richMenuLinks: 0, richMenuUnlinks: 0 };

  /** Counts one planned action step of a user. */
  noteAction(change: {
    tags: { add: string[]; remove: string[] };
    attributes: { set: object; clear: string[] };
    richMenu?: unknown;
  }): void {
    if (change.richMenu !== undefined) this.actions.richMenuPlanned++;
    if (change.tags.add.length + change.tags.remove.length > 0) this.actions.tagUsers++;
    if (Object.keys(change.attributes.set).length + change.attributes.clear.length > 0) this.actions.attributeUsers++;
  }

  /** Users whose rich menu LINE linked or unlinked. */
  noteRichMenu(kind: 'richmenu_link' | 'richmenu_unlink', n: number): void {
    if (kind === 'richmenu_link') this.actions.richMenuLinks += n;
    else this.actions.richMenuUnlinks += n;
  }

  add(scenarioId: string, stepId: string | undefined, what: Counted, n = 1): void {
    let steps = this.byScenario.get(scenarioId);
    if (!steps) this.byScenario.set(scenarioId, (steps = new Map<string, Partial<Record<Counted, number>>>()));
    const key = stepId ?? '';
    const row = steps.get(key) ?? {};
    row[what] = (row[what] ?? 0) + n;
    steps.set(key, row);
  }

  /**
   * Reasons are LINE's or the planner's messages, which never hold a person's data. Counted in
   * recipients (a refused multicast of 300 is 300), with the LINE requests (batches) apart.
   */
  noteFailure(scenarioId: string, stepId: string, reason: string, recipients = 1, batches = 0): void {
    const known = this.failures.find((f) => f.scenarioId === scenarioId && f.stepId === stepId && f.reason === reason);
    if (known) {
      known.count += recipients;
      known.batches += batches;
    } else if (this.failures.length < 100)
      this.failures.push({ scenarioId, stepId, reason, count: recipients, batches });
  }

  /** Reasons are "unfollowed" or "exited before sending: <exit>": event types and step ids, no one's data. */
  noteSkip(scenarioId: string, stepId: string, reason: string, n: number): void {
    this.add(scenarioId, stepId, 'skipped', n);
    const known = this.skips.find((f) => f.scenarioId === scenarioId && f.stepId === stepId && f.reason === reason);
    if (known) known.count += n;
    else if (this.skips.length < 100) this.skips.push({ scenarioId, stepId, reason, count: n });
  }

  /** Counts events set aside for one reason (at most 100 reasons are kept; the count covers all). */
  noteSetAside(reason: string, n = 1): void {
    this.eventsSetAside += n;
    if (this.setAsideReasons.has(reason) || this.setAsideReasons.size < 100)
      this.setAsideReasons.set(reason, (this.setAsideReasons.get(reason) ?? 0) + n);
  }

  total(what: Counted): number {
    let sum = 0;
    for (const steps of this.byScenario.values()) for (const row of steps.values()) sum += row[what] ?? 0;
    return sum;
  }

  toJSON(): Record<string, unknown> {
    const scenarios: Record<string, Record<string, Partial<Record<Counted, number>>>> = {};
    for (const [id, steps] of this.byScenario)
      scenarios[id] = Object.fromEntries([...steps].map(([k, v]) => [k || '(scenario)', v]));
    return {
      events: {
        taken: this.eventsTaken,
        setAside: this.eventsSetAside,
        waitingLink: this.eventsWaitingLink,
        setAsideReasons: Object.fromEntries(this.setAsideReasons),
      },
      recipientsPlanned: this.recipientsPlanned,
      sent: this.total('sent'),
      failed: this.total('failed'),
      deferred: this.total('deferred'),
      skipped: this.total('skipped'),
      lostLeases: this.lostLeases,
      // The dispatcher reads it: a tick held back by max-messages left work for the next.
      heldBackByMaxMessages: this.heldBackByMaxMessages,
      actions: { ...this.actions },
      scenarios,
    };
  }
}
