// One line that says what an action step does, for the timeline, the flowchart and the
// PR summary: "tags + vip − new, attributes plan=gold, rich menu → member-menu".
import type { ActionStep, RichMenuAction } from './schema.js';

function richMenuText(menu: RichMenuAction): string {
  if ('unlink' in menu) return 'rich menu unlinked';
  return `rich menu → ${'alias' in menu ? menu.alias : menu.id}`;
}

export function describeAction(step: Pick<ActionStep, 'tags' | 'attributes' | 'richMenu'>): string {
  const parts: string[] = [];
  const tags = [...(step.tags?.add ?? []).map((t) => `+ ${t}`), ...(step.tags?.remove ?? []).map((t) => `− ${t}`)];
  if (tags.length) parts.push(`tags ${tags.join(' ')}`);
  const attributes = [
    ...Object.entries(step.attributes?.set ?? {}).map(([k, v]) => `${k}=${String(v)}`),
    ...(step.attributes?.clear ?? []).map((k) => `${k} cleared`),
    ...Object.entries(step.attributes?.increment ?? {}).map(([k, v]) => `${k} ${v < 0 ? '−' : '+'}${Math.abs(v)}`),
  ];
  if (attributes.length) parts.push(`attributes ${attributes.join(' ')}`);
  if (step.richMenu) parts.push(richMenuText(step.richMenu));
  return parts.join(', ');
}
