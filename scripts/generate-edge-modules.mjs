// Writes the Deno edge functions' copies of modules whose source of truth is in src/ (the
// webhook must parse postbacks as the contract documents them). A copied module imports
// nothing, so Deno runs it as it is. test/edge/generated.test.ts fails when a copy is
// stale: run `node scripts/generate-edge-modules.mjs` after changing a source.
import { readFileSync, writeFileSync } from 'node:fs';

/** Each module: its source in src/ and its generated copy under supabase/functions/_shared/. */
export const MODULES = [
  { source: 'src/contract/postback-rules.ts', target: 'supabase/functions/_shared/postback-rules.ts' },
];

/** The generated text of one module (a verbatim copy under a header). */
export function edgeModule({ source }) {
  const text = readFileSync(source, 'utf8');
  if (/^\s*import\s/m.test(text)) throw new Error(`${source} must import nothing: Deno runs a copy of it as it is`);
  return (
    `// generated: do not edit. Copied from ${source} by scripts/generate-edge-modules.mjs;\n` +
    `// change it there, then run \`node scripts/generate-edge-modules.mjs\`.\n\n${text}`
  );
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  for (const m of MODULES) writeFileSync(m.target, edgeModule(m));
}
