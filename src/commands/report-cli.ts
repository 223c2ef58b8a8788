// The CLI's report and inspect commands: their arguments, where their output goes, and
// their exit codes (1 for bad input: a period, an unknown scenario or user). The CLI's
// main hands them the arguments and a way to open the store.
import { writeFile } from 'node:fs/promises';
import type { Store } from '../store/store.js';
import { settingsFromEnv } from './config.js';
import { parseNow } from '../time/now.js';
import { parseReportArgs, REPORT_USAGE, reportCommand, ReportInputError } from './report.js';
import { INSPECT_USAGE, inspectCommand, parseInspectArgs } from './inspect.js';

/** Lines for the CLI's --help. */
export const REPORT_HELP = `  report [--from DATE] [--to DATE] [--scenario ID] [--out FILE.html]
             funnels and conversions per scenario and step (Markdown), default the
             last 7 and 30 days (DATE: 2026-11-16 in Asia/Tokyo, or ISO with a zone);
             reads LINE's opens and clicks first when LINE_CHANNEL_ACCESS_TOKEN is
             set; --out writes the self-contained HTML page
  inspect <LINE user id | member id> [--timezone ZONE] [--events N]
             one user's enrollments, steps sent (batch, LINE's answer), skipped or
             expired (why), next step, exits, goals and the events behind them.
             Prints user data: for your own terminal, never a public log
`;

export const isReportCommand = (name: string | undefined): name is 'report' | 'inspect' =>
  name === 'report' || name === 'inspect';

export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: CliOutput = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Runs `report …` or `inspect …`; returns the exit code. */
export async function reportCli(
  argv: string[],
  openStore: () => Promise<Store>,
  io: CliOutput = stdio,
): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === 'inspect') {
      const a = parseInspectArgs(args);
      if (a.help) {
        io.out(`${INSPECT_USAGE}\n`);
        return 0;
      }
      io.out(await inspectCommand({ openStore, user: a.user!, timezone: a.timezone, eventsLimit: a.events }));
      return 0;
    }
    const a = parseReportArgs(args);
    if (a.help) {
      io.out(`${REPORT_USAGE}\n`);
      return 0;
    }
    const env = settingsFromEnv();
    const outcome = await reportCommand({
      openStore,
      line: { channelAccessToken: env.LINE_CHANNEL_ACCESS_TOKEN, baseURL: env.LINE_API_BASE_URL },
      now: parseNow(process.env.LINE_STEP_DELIVERY_NOW, 'LINE_STEP_DELIVERY_NOW') ?? Date.now(),
      from: a.from,
      to: a.to,
      scenarioId: a.scenario,
    });
    if (a.out) {
      await writeFile(a.out, outcome.html);
      io.err(`wrote ${a.out}\n`);
    }
    io.out(outcome.markdown);
    return 0;
  } catch (error) {
    if (!(error instanceof ReportInputError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
}
