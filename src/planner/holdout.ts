// The holdout group (docs/measuring.md): a fixed share of the users who enter a scenario is
// sent nothing, so the report can compare their conversion with the treated users'. Which
// users are held out depends on the scenario id, the holdout's salt and the LINE user id
// only: the same user is in the same group on every entry and after any edit that keeps the
// salt; a new percent moves only the users between the old and the new share.
import type { Scenario } from '../scenario/schema.js';
import { hash53 } from './split.js';

export type Holdout = NonNullable<Scenario['holdout']>;

/** A number in [0, 1) fixed for this user, scenario and salt (another seed than the A/B split's). */
export function holdoutPoint(userId: string, scenarioId: string, salt: string | undefined): number {
  return hash53(`holdout\u0000${scenarioId}\u0000${salt ?? ''}\u0000${userId}`) / 2 ** 53;
}

/** Whether this user is in the scenario's holdout group (never, without a holdout). */
export function isHeldOut(userId: string, scenarioId: string, holdout: Holdout | undefined): boolean {
  if (!holdout) return false;
  return holdoutPoint(userId, scenarioId, holdout.salt) * 100 < holdout.percent;
}
