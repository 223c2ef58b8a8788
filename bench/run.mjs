// Bundles the benchmarks with esbuild (as the action is bundled: no per-call helpers
// that a dev-time loader adds) and runs them. Usage: npm run bench -- <name> [args]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';

await build({
  entryPoints: ['bench/index.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  outfile: '.bench/index.mjs',
  packages: 'external',
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, ['--expose-gc', '.bench/index.mjs', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exitCode = result.status ?? 1;
