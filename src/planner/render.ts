// Fills placeholders into a step's messages for one user, then checks the result
// against LINE's limits again (a long product name can push a text over 5,000).
import { MessageSchema, type Message } from '../scenario/messages.js';
import { fillPlaceholders } from '../scenario/placeholders.js';
import type { MessageStep } from '../scenario/schema.js';
import { fieldValue } from './conditions.js';

export interface RenderInput {
  attributes: Record<string, unknown>;
  answers: Record<string, unknown>;
  trigger: Record<string, unknown>;
}

export type RenderResult = { messages: Message[] } | { error: string };

function display(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String).join(', ');
  if (typeof value === 'object') return undefined;
  return String(value);
}

function fillDeep(value: unknown, lookup: (key: string) => string | undefined, fallbacks: Record<string, string> | undefined, missing: string[]): unknown {
  if (typeof value === 'string') return fillPlaceholders(value, lookup, fallbacks, missing);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, lookup, fallbacks, missing));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillDeep(v, lookup, fallbacks, missing);
    return out;
  }
  return value;
}

/** uniform: the step has no placeholders, so its messages go out as written. */
export function renderMessages(step: MessageStep, uniform: boolean, input: RenderInput): RenderResult {
  if (uniform) return { messages: step.messages };
  const missing: string[] = [];
  const lookup = (key: string) => display(fieldValue(key, input));
  const messages = fillDeep(step.messages, lookup, step.fallbacks, missing) as Message[];
  if (missing.length) {
    return { error: `no value for ${[...new Set(missing)].join(', ')} and no fallback: add one, e.g. {{${missing[0]}|…}}` };
  }
  for (const [i, m] of messages.entries()) {
    const checked = MessageSchema.safeParse(m);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      return { error: `message ${i + 1} after filling placeholders: ${issue.path.join('.')}: ${issue.message}` };
    }
  }
  return { messages };
}
