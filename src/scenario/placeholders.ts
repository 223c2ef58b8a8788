// Placeholders in message strings: {{user.displayName}}, {{trigger.productName|the item}}.
// The text after "|" is the fallback used when the value is missing.
export interface Placeholder {
  /** The whole token as written, braces included. */
  token: string;
  /** "user", "trigger" or "answers". */
  namespace: string;
  /** The dotted path after the namespace, e.g. "productName". */
  path: string;
  /** namespace + "." + path, as used in a step's fallbacks map. */
  key: string;
  fallback?: string;
}

export const PLACEHOLDER_NAMESPACES = ['user', 'trigger', 'answers', 'link'] as const;
const TOKEN = /\{\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}\}/g;
const KEY = /^((user|trigger|answers)\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*|link\.[A-Za-z0-9_-]+)$/;

/** Every {{...}} in a string, well formed or not (isValidPlaceholderKey tells). */
export function findPlaceholders(text: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const key = match[1] ?? '';
    const dot = key.indexOf('.');
    found.push({
      token: match[0],
      namespace: dot > 0 ? key.slice(0, dot) : key,
      path: dot > 0 ? key.slice(dot + 1) : '',
      key,
      ...(match[2] !== undefined ? { fallback: match[2].trim() } : {}),
    });
  }
  return found;
}

export function isValidPlaceholderKey(key: string): boolean {
  return KEY.test(key);
}

export function hasPlaceholders(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasPlaceholders);
  if (value && typeof value === 'object') return Object.values(value).some(hasPlaceholders);
  return false;
}

/** Calls visit for every string inside a JSON value, with its JSON path. */
export function forEachString(
  value: unknown,
  path: (string | number)[],
  visit: (text: string, path: (string | number)[]) => void,
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, [...path, i], visit));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) forEachString(v, [...path, k], visit);
  }
}

/**
 * Replaces placeholders in one string. lookup returns undefined for a missing value;
 * then the inline fallback, then fallbacks[key], is used; else the key is reported missing.
 */
export function fillPlaceholders(
  text: string,
  lookup: (key: string) => string | undefined,
  fallbacks: Record<string, string> | undefined,
  missing: string[],
): string {
  if (!text.includes('{{')) return text;
  return text.replace(TOKEN, (_whole, rawKey: string, inline: string | undefined) => {
    const key = rawKey.trim();
    const value = lookup(key);
    if (value !== undefined && value !== '') return value;
    if (inline !== undefined) return inline.trim();
    // Own keys only: a placeholder named like a prototype member has no fallback.
    const fallback = fallbacks && Object.hasOwn(fallbacks, key) ? fallbacks[key] : undefined;
    if (fallback !== undefined) return fallback;
    missing.push(key);
    return '';
  });
}
