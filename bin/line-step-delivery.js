#!/usr/bin/env node
// The published command: checks the Node.js version, then runs the bundled CLI (built by
// `npm run build`). The CLI is imported only after the check: a static import would load
// (and fail) before any line here runs.
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(problem + '\n');
  process.exitCode = 1;
} else {
  await import('../dist/cli/index.js');
}
