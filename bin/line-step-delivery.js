#!/usr/bin/env node
// The published command: runs the bundled CLI (built by `npm run build`).
import '../dist/cli/index.js';
