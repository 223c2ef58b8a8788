// Benchmarks, each printing its figures. Run: npm run bench -- <name> [args]
// Names: planner (default).
import { benchPlanner } from './planner.js';

const [name = 'planner', ...args] = process.argv.slice(2);
switch (name) {
  case 'planner':
    await benchPlanner(args[0] ? Number(args[0]) : undefined);
    break;
  default:
    console.error(`unknown benchmark "${name}"`);
    process.exitCode = 2;
}
