// Reading a dotted path ("order.items", "tags") out of a user's facts, an event's
// properties or a trigger: own properties only. A path never reaches what every object
// inherits ("constructor", "toString", "__proto__"), so a condition on user.constructor
// sees a missing value, as SQL's jsonb paths (which have no prototype) do.

/** The value of an object's own property, or undefined (a prototype member is absent). */
export function ownValue(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object' || !Object.hasOwn(obj, key)) return undefined;
  return (obj as Record<string, unknown>)[key];
}

/** The value at a dotted path of own properties, or undefined. */
export function readOwnPath(obj: unknown, path: string): unknown {
  if (!path.includes('.')) return ownValue(obj, path);
  let v = obj;
  for (const part of path.split('.')) {
    v = ownValue(v, part);
    if (v === undefined) return undefined;
  }
  return v;
}
