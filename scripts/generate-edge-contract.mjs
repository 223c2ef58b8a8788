// Writes supabase/functions/_shared/event-contract.ts, the Deno edge functions' copy of the
// event contract, from src/contract/event-rules.ts (the source of truth: plain TypeScript
// with no imports, so Deno runs it as it is). A test fails when the copy is stale:
// run `node scripts/generate-edge-contract.mjs` after changing the rules.
import { readFileSync, writeFileSync } from 'node:fs';

export const SOURCE = 'src/contract/event-rules.ts';
export const TARGET = 'supabase/functions/_shared/event-contract.ts';

export function edgeContractModule() {
  const rules = readFileSync(SOURCE, 'utf8');
  if (/^\s*import\s/m.test(rules)) throw new Error(`${SOURCE} must import nothing: Deno runs a copy of it as it is`);
  return (
    `// generated: do not edit. Copied from ${SOURCE} by scripts/generate-edge-contract.mjs;\n` +
    `// change the rules there, then run \`node scripts/generate-edge-contract.mjs\`.\n\n${rules}`
  );
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  writeFileSync(TARGET, edgeContractModule());
}
