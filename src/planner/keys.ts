// Enrollment keys ("entry": {"key": "trigger.reservationId"}): one enrollment per user and
// key value, so two bookings each get their reminder. Events that carry the key property
// belong to the enrollment with that value; events without it concern them all.
import { readOwnPath } from './paths.js';

/** Longer values are not keys (an index entry stays small): such a trigger enrolls as one without a key. */
export const MAX_KEY_LENGTH = 200;

/**
 * The key value a trigger's properties carry: a non-empty string (at most 200 characters) or
 * a finite number, as text (123 and "123" are one key). Undefined when the scenario has no
 * key or the value is missing or not usable.
 */
export function enrollmentKey(keyPath: string | undefined, properties: Record<string, unknown>): string | undefined {
  if (keyPath === undefined) return undefined;
  const value = readOwnPath(properties, keyPath.slice('trigger.'.length));
  if (typeof value === 'string') return value.length > 0 && value.length <= MAX_KEY_LENGTH ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Whether an event concerns the enrollment with this key: it carries the same value, or none. */
export function concernsKey(
  keyPath: string | undefined,
  key: string | undefined,
  properties: Record<string, unknown>,
): boolean {
  if (key === undefined) return true;
  const carried = enrollmentKey(keyPath, properties);
  return carried === undefined || carried === key;
}
