// The JSON Schema of the scenario language, generated from the zod schema so that
// editors complete and check scenario files as they are typed ("$schema" in each file).
import { z } from 'zod';
import { ScenarioSchema } from './schema.js';

export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ScenarioSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'LINE step-delivery scenario',
    ...schema,
  };
}

const WIDTH = 120;

/**
 * One line, unless an object with keys is inside (prettier keeps those open), or a list
 * holds two or more lists of two or more values each (prettier breaks such a matrix).
 */
function flatJson(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1 && value.every((v) => Array.isArray(v) && v.length > 1)) return undefined;
    const items = value.map(flatJson);
    return items.every((x) => x !== undefined) ? `[${items.join(', ')}]` : undefined;
  }
  if (value !== null && typeof value === 'object') return Object.keys(value).length ? undefined : '{}';
  return JSON.stringify(value);
}

/**
 * JSON laid out as prettier lays it out (printWidth 120): objects one key a line, a list
 * without objects on one line when it fits (a long list of numbers, which prettier fills
 * line by line, does not occur in a schema). The committed file then passes the format check
 * and stays byte-equal to what the `schema` command writes.
 */
export function formatJson(value: unknown, indent = '', prefix = 0, comma = false): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = flatJson(value);
    // What precedes it on its line (indent, key) and the comma that follows it count too.
    if (flat !== undefined && indent.length + prefix + flat.length + (comma ? 1 : 0) <= WIDTH) return flat;
    const inner = `${indent}  `;
    const items = value.map((v, i) => inner + formatJson(v, inner, 0, i < value.length - 1));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    const lines = entries.map(([k, v], i) => {
      const key = `${JSON.stringify(k)}: `;
      return inner + key + formatJson(v, inner, key.length, i < entries.length - 1);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The file's text, as committed: stable key order, prettier's layout, final newline. */
export function scenarioJsonSchemaText(): string {
  return `${formatJson(scenarioJsonSchema())}\n`;
}

/** Every property name the JSON Schema declares (at any depth), for "did you mean" on an unknown one. */
export function knownPropertyNames(schema: unknown = scenarioJsonSchema()): Set<string> {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const { properties } = node as { properties?: unknown };
    if (properties && typeof properties === 'object' && !Array.isArray(properties))
      Object.keys(properties).forEach((k) => names.add(k));
    Object.values(node).forEach(walk);
  };
  walk(schema);
  return names;
}
