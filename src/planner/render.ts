// Fills placeholders into a step's messages for one user, then checks the result
// against LINE's limits again (a long product name can push a text over 5,000).
import { LINE_LIMITS, MessageSchema, type Message } from '../scenario/messages.js';
import { fillPlaceholders } from '../scenario/placeholders.js';
import type { CompiledStep } from '../scenario/compile.js';
import type { MessageStep } from '../scenario/schema.js';
import { fieldValue } from './conditions.js';
import { ownValue } from './paths.js';

/** Turns a step's link into the tracked URL for one user (the click function's format). */
export type LinkSigner = (userId: string, linkId: string, url: string) => string;

export interface RenderInput {
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
  trigger: Record<string, unknown>;
  userId?: string | undefined;
  /** Without one, {{link.x}} renders the plain URL (no click tracking). */
  linkSigner?: LinkSigner | undefined;
}

export type RenderResult = { messages: Message[] } | { error: string };

function display(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v as string))).join(', ');
  if (typeof value === 'object') return undefined;
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? undefined);
}

function fillDeep(
  value: unknown,
  lookup: (key: string) => string | undefined,
  fallbacks: Record<string, string> | undefined,
  missing: string[],
): unknown {
  if (typeof value === 'string') return fillPlaceholders(value, lookup, fallbacks, missing);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, lookup, fallbacks, missing));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillDeep(v, lookup, fallbacks, missing);
    return out;
  }
  return value;
}

/** A uniform step has no placeholders, so its messages go out as written. */
export function renderMessages(compiled: CompiledStep, input: RenderInput): RenderResult {
  const step = compiled.step as MessageStep;
  if (compiled.uniform) return { messages: step.messages };
  const textOnly = compiled.textOnlyPlaceholders;
  const missing: string[] = [];
  const lookup = (key: string) => {
    if (key.startsWith('link.')) {
      const id = key.slice(5);
      const url = ownValue(step.links, id);
      if (typeof url !== 'string') return undefined;
      return input.linkSigner && input.userId ? input.linkSigner(input.userId, id, url) : url;
    }
    return display(fieldValue(key, input));
  };
  const messages = fillDeep(step.messages, lookup, step.fallbacks, missing) as Message[];
  if (missing.length) {
    return {
      error: `no value for ${[...new Set(missing)].join(', ')} and no fallback: add one, e.g. {{${missing[0]}|…}}`,
    };
  }
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    // A text message whose placeholders are all in its text: only the text's length can
    // have changed. Anything else is checked against the whole schema again.
    if (m.type === 'text' && textOnly[i]) {
      if (m.text.length === 0 || m.text.length > LINE_LIMITS.textLength) {
        return {
          error: `message ${i + 1} after filling placeholders: text: ${m.text.length === 0 ? 'a text message cannot be empty' : `LINE accepts at most ${LINE_LIMITS.textLength} characters (UTF-16 units) in a text message, this has ${m.text.length}`}`,
        };
      }
      continue;
    }
    const checked = MessageSchema.safeParse(m);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      return { error: `message ${i + 1} after filling placeholders: ${issue.path.join('.')}: ${issue.message}` };
    }
  }
  return { messages };
}
