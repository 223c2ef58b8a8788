// Names that must be what they look like: attribute names a scenario may write, and tags.
// One rule each, read by scenario validation, the planner and (for tags) the SQL that
// stores them (lsd_normalize_tag, migration 20261207000300; test/hostile/tags.test.ts holds
// the two to the same answers).
import { storableProblem } from './event-rules.js';

/**
 * Attributes the engine owns: tags (changed through "tags" only), linked (set when an
 * account is linked), timezone (the user's zone for times of day, from profile_updated),
 * following (the follow state, kept beside the attributes).
 */
export const ENGINE_ATTRIBUTES = ['tags', 'linked', 'timezone', 'following'] as const;
/**
 * Names no JavaScript object can hold as a plain key: JSON.parse keeps "__proto__" as a
 * key, but an object literal, Object.assign and zod read it as the object's prototype, so
 * the name would vanish (or change what every other name reads).
 */
export const UNSTORABLE_NAMES = ['__proto__'] as const;

/** Why a step cannot set or clear this attribute, or undefined. */
export function attributeNameProblem(name: string): string | undefined {
  if ((UNSTORABLE_NAMES as readonly string[]).includes(name))
    return `"${name}" cannot be a name: JavaScript reads it as the object's prototype, so it would vanish. Use another name`;
  if ((ENGINE_ATTRIBUTES as readonly string[]).includes(name))
    return `this attribute belongs to the engine (${ENGINE_ATTRIBUTES.join(', ')}): use "tags" for tags, or another name`;
  return undefined;
}

/**
 * Characters that show nothing or reorder what is around them: controls (other than the
 * white space ones), Unicode's Default_Ignorable_Code_Point (zero-width spaces and
 * joiners, variation selectors, soft hyphen, Hangul fillers, tag characters) and the bidi
 * controls (LRM, RLM, ALM, embeddings, overrides, isolates), line and paragraph separators.
 * Written out, not as \p{...}, so that the SQL can say the same set.
 */
const INVISIBLE_SET =
  '\\u0000-\\u0008\\u000E-\\u001F\\u007F-\\u009F\\u00AD\\u034F\\u061C\\u115F\\u1160\\u17B4\\u17B5\\u180B-\\u180F' +
  '\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u206F\\u3164\\uFE00-\\uFE0F\\uFEFF\\uFFA0\\uFFF0-\\uFFF8' +
  '\\u{1BCA0}-\\u{1BCA3}\\u{1D173}-\\u{1D17A}\\u{E0000}-\\u{E0FFF}';
// The class holds combining marks (U+034F, variation selectors) on purpose: each is matched alone.
// eslint-disable-next-line no-misleading-character-class
const INVISIBLE = new RegExp(`[${INVISIBLE_SET}]`, 'u');
// eslint-disable-next-line no-misleading-character-class
const INVISIBLE_ALL = new RegExp(`[${INVISIBLE_SET}]`, 'gu');
/** Bidi embeddings, overrides and isolates: they make text show in another order than it is. */
const REORDERING = /[\u202A-\u202E\u2066-\u2069]/u;
const SPACES = /[\t\n\v\f\r ]+/g;

/** The first invisible or bidi character of a string, as "U+200B", or undefined. */
export function invisibleCharacter(s: string): string | undefined {
  const found = INVISIBLE.exec(s)?.[0];
  return found === undefined ? undefined : codePointLabel(found);
}

/** The first bidi embedding, override or isolate of a string, as "U+202E", or undefined. */
export function reorderingCharacter(s: string): string | undefined {
  const found = REORDERING.exec(s)?.[0];
  return found === undefined ? undefined : codePointLabel(found);
}

function codePointLabel(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A tag as it is stored and compared: Unicode NFKC (full-width letters, compatibility
 * forms and composed/decomposed accents become one form), invisible and bidi characters
 * removed, white space runs made one space, no space at either end. Case is kept: "VIP"
 * and "vip" look different and are two tags (validation refuses both in one scenario).
 * The same rule as SQL's lsd_normalize_tag.
 */
export function normalizeTag(tag: string): string {
  const visible = tag.normalize('NFKC').replace(INVISIBLE_ALL, '').normalize('NFKC');
  return visible.replace(SPACES, ' ').replace(/^ | $/g, '');
}

/**
 * Why a tag written in a scenario is not one tag for certain, or undefined: a character the
 * store cannot hold, nothing visible, or not in its normal form (then the fix names it).
 */
export function tagProblem(tag: string): string | undefined {
  const unstorable = storableProblem(tag);
  if (unstorable) return `the tag ${unstorable}: remove it`;
  const normal = normalizeTag(tag);
  if (normal === '') return 'a tag needs at least one visible character: remove the empty tag';
  if (normal === tag) return undefined;
  const invisible = invisibleCharacter(tag);
  const why = invisible
    ? `has an invisible or bidi character (${invisible}), so it would differ from a tag that looks the same`
    : tag.normalize('NFKC') !== tag
      ? 'is not in Unicode NFKC form (full-width letters, compatibility characters or decomposed accents), so it would differ from a tag that looks the same'
      : 'has spaces at an end or several in a row';
  return `this tag ${why}: write it as ${JSON.stringify(normal)} (tags are stored that way)`;
}
