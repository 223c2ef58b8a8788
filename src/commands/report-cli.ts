// The CLI's report and inspect commands: their arguments (parsed by the one parser,
// command-line.ts), where their output goes, and their exit codes (1 for bad input: the
// arguments, a period, an unknown scenario or user). The CLI's table hands them the parsed
// arguments and a way to open the store; reportCli parses them itself, for the tests.
import { writeFile } from 'node:fs/promises';
import type { Store } from '../store/store.js';
import { settingsFromEnv } from './config.js';
import { parseNow } from '../time/now.js';
import { reportCommand, ReportInputError } from './report.js';
import { inspectCommand } from './inspect.js';
import {
  commandHelp,
  parseCommandArgs,
  textOption,
  usageError,
  UsageError,
  type CommandArgs,
  type ParsedArgs,
} from './command-line.js';

export const REPORT_ARGS: CommandArgs = {
  usage: 'report [--from DATE] [--to DATE] [--scenario ID] [--out FILE.html]',
  about: [
    'funnels and conversions per scenario and step (Markdown), default the',
    'last 7 and 30 days (DATE: 2026-11-16 in Asia/Tokyo, or ISO with a zone);',
    "reads LINE's opens and clicks first when LINE_CHANNEL_ACCESS_TOKEN is",
    'set; --out writes the self-contained HTML page',
  ],
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    scenario: { type: 'string' },
    out: { type: 'string' },
  },
  positionals: 0,
};

export const INSPECT_ARGS: CommandArgs = {
  usage: 'inspect <LINE user id | member id> [--timezone ZONE] [--events N]',
  about: [
    "one user's enrollments, steps sent (batch, LINE's answer), skipped or",
    'expired (why), next step, exits, goals and the events behind them.',
    'Prints user data: for your own terminal, never a public log',
  ],
  options: { timezone: { type: 'string' }, events: { type: 'string' } },
  positionals: 1,
  tooMany: (users) => `one user at a time, got ${users.length}`,
};

export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: CliOutput = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Parses and runs `report …` or `inspect …`; returns the exit code. */
export async function reportCli(
  argv: string[],
  openStore: () => Promise<Store>,
  io: CliOutput = stdio,
): Promise<number> {
  const [command, ...args] = argv;
  try {
    const spec = command === 'inspect' ? INSPECT_ARGS : REPORT_ARGS;
    const parsed = parseCommandArgs(command!, spec, args);
    if (parsed.help) {
      io.out(commandHelp(spec));
      return 0;
    }
    return await (command === 'inspect' ? runInspect : runReport)(parsed, openStore, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
}

/** Bad input found once the store is open (an unknown scenario or user, an empty period): its message, exit 1. */
async function refusingBadInput(io: CliOutput, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof ReportInputError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
}

export function runInspect(
  parsed: ParsedArgs,
  openStore: () => Promise<Store>,
  io: CliOutput = stdio,
): Promise<number> {
  const user = parsed.positional;
  if (!user) throw usageError('inspect', INSPECT_ARGS, 'whom?');
  const given = textOption(parsed, 'events');
  const events = given === undefined ? undefined : Number(given);
  if (events !== undefined && !(Number.isInteger(events) && events > 0))
    throw usageError('inspect', INSPECT_ARGS, `--events must be a whole number above 0, got "${given}"`);
  return refusingBadInput(io, async () => {
    io.out(
      await inspectCommand({
        openStore,
        user,
        timezone: textOption(parsed, 'timezone') || undefined,
        eventsLimit: events,
      }),
    );
    return 0;
  });
}

export function runReport(parsed: ParsedArgs, openStore: () => Promise<Store>, io: CliOutput = stdio): Promise<number> {
  return refusingBadInput(io, async () => {
    const env = settingsFromEnv();
    const out = textOption(parsed, 'out');
    const outcome = await reportCommand({
      openStore,
      line: { channelAccessToken: env.LINE_CHANNEL_ACCESS_TOKEN, baseURL: env.LINE_API_BASE_URL },
      now: parseNow(process.env.LINE_STEP_DELIVERY_NOW, 'LINE_STEP_DELIVERY_NOW') ?? Date.now(),
      from: textOption(parsed, 'from'),
      to: textOption(parsed, 'to'),
      scenarioId: textOption(parsed, 'scenario'),
    });
    if (out) {
      await writeFile(out, outcome.html);
      io.err(`wrote ${out}\n`);
    }
    io.out(outcome.markdown);
    return 0;
  });
}
