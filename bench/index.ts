// Benchmarks, each printing its figures. Run: npm run bench -- <name> [args]
// Names: planner (default), store, line, tick, fuzz, report, whatif, clock, retention, distance, tags.
import { benchPlanner } from './planner.js';
import { benchStore } from './store.js';
import { benchLine, benchLineTick, serveLine } from './line.js';
import { benchTick } from './tick.js';
import { benchReport } from './report.js';
import { benchFuzz } from './fuzz.js';
import { benchWhatIf } from './whatif.js';
import { benchRetention } from './retention.js';
import { benchClock } from './clock.js';
import { benchDistance } from './distance.js';
import { benchTags } from './tags.js';

const [name = 'planner', ...args] = process.argv.slice(2);
switch (name) {
  case 'planner':
    await benchPlanner(args[0] ? Number(args[0]) : undefined);
    break;
  case 'line':
    if (args.includes('--tick')) await benchLineTick(args.filter((a) => a !== '--tick'));
    else await benchLine(args);
    break;
  case 'tick':
    await benchTick(args);
    break;
  case 'line-server':
    await serveLine(args[0] ? Number(args[0]) : 0);
    break;
  case 'store':
    await benchStore(args);
    break;
  case 'report':
    await benchReport(args);
    break;
  case 'whatif':
    await benchWhatIf(args);
    break;
  case 'clock':
    await benchClock(args);
    break;
  case 'retention':
    await benchRetention(args);
    break;
  case 'tags':
    await benchTags(args);
    break;
  case 'distance':
    await benchDistance(args);
    break;
  case 'fuzz':
    await benchFuzz(args);
    break;
  default:
    console.error(`unknown benchmark "${name}"`);
    process.exitCode = 2;
}
