// Writes the Deno edge functions' copies of modules whose source of truth is in src/, so the
// webhook parses postbacks as the contract documents them and replies to a follow with what
// the engine's planner decides (not a second implementation). A module that imports nothing
// is copied as it is; the reply planner is bundled with esbuild into one ES module (with a
// declaration file for deno check). test/edge/generated.test.ts fails when a copy is stale:
// run `node scripts/generate-edge-modules.mjs` after changing a source.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSync } from 'esbuild';

const note = (source) =>
  `// generated: do not edit. Made from ${source} by scripts/generate-edge-modules.mjs;\n` +
  `// change it there, then run \`node scripts/generate-edge-modules.mjs\`.\n`;

/** A module that imports nothing, copied under a header. */
function copied(source) {
  const text = readFileSync(source, 'utf8');
  if (/^\s*import\s/m.test(text)) throw new Error(`${source} must import nothing: Deno runs a copy of it as it is`);
  return `${note(source)}\n${text}`;
}

/** A module and what it imports from src/ and node_modules, as one ES module (node: built-ins left to Deno). */
function bundled(source, types) {
  const out = buildSync({
    entryPoints: [source],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['import', 'default'],
    external: ['node:*'],
    target: 'es2022',
    legalComments: 'none',
    minify: true,
    logLevel: 'silent',
  });
  return `// @ts-self-types="./${types}"\n${note(source)}${out.outputFiles[0].text}`;
}

/** The declarations Deno checks the reply planner's bundle against (src/planner/reply.ts). */
const REPLY_TYPES = `${note('src/planner/reply.ts')}
export interface ReplyEvent { id: string; type: string; occurredAt: number; properties: Record<string, unknown> }
export interface ReplyUser { userId: string; following: boolean; attributes: Record<string, unknown>; answers: Record<string, unknown> }
export interface ReplyEnrollment { id: string; scenarioId: string; status: 'active' | 'finished' | 'exited'; enteredAt: number; waitingFor?: string | undefined; key?: string | undefined }
export interface ReplyScenario { id: string; hash: string; activatedAt: number; definition: unknown }
export interface ReplyInput { event: ReplyEvent; user: ReplyUser; enrollments: readonly ReplyEnrollment[]; scenarios: readonly ReplyScenario[]; now: number }
export interface ReplyChoice { scenarioId: string; scenarioHash: string; stepId: string; dueAt: number; enteredAt: number; trigger: Record<string, unknown>; messages: Record<string, unknown>[] }
export type ReplyDecision = { reply: ReplyChoice } | { none: string; entered: boolean };
export function planReply(input: ReplyInput): ReplyDecision;
`;

/** Each module: its source in src/, its generated file under supabase/functions/_shared/, and how it is made. */
export const MODULES = [
  {
    source: 'src/contract/postback-rules.ts',
    target: 'supabase/functions/_shared/postback-rules.ts',
    make: () => copied('src/contract/postback-rules.ts'),
  },
  {
    source: 'src/planner/reply.ts',
    target: 'supabase/functions/_shared/reply-plan.js',
    make: () => bundled('src/planner/reply.ts', 'reply-plan.d.ts'),
  },
  {
    source: 'src/planner/reply.ts',
    target: 'supabase/functions/_shared/reply-plan.d.ts',
    make: () => REPLY_TYPES,
  },
];

/** The generated text of one module. */
export function edgeModule(module) {
  return module.make();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  for (const m of MODULES) writeFileSync(m.target, edgeModule(m));
}
