// The CLI's forecast command: its arguments (parsed by command-line.ts) and its output, the
// forecast as Markdown on stdout; exit 1 when the scenarios have problems. The CLI's table
// (src/cli/commands.ts) hands it the parsed arguments, the folder and the local store opener.
import { parseNow } from '../time/now.js';
import { textOption, type CommandArgs, type ParsedArgs } from './command-line.js';
import { settingsFromEnv, type LocalStoreOpener } from './config.js';
import { forecastCommand, ForecastProblem } from './forecast.js';
import type { CliOutput } from './report-cli.js';

export const FORECAST_ARGS: CommandArgs = {
  usage: 'forecast [DIR] [--base REF]',
  about: [
    'the messages LINE will count in the next 30 days per scenario, from who',
    'is inside now and the last 30 days’ entries (read only), against the',
    'quota when LINE_CHANNEL_ACCESS_TOKEN is set; --base: what the change',
    'since that git revision adds or removes',
  ],
  options: { scenarios: { type: 'string' }, base: { type: 'string' } },
  positionals: 1,
};

const stdio: CliOutput = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Runs `forecast` over the folder `dir`; returns the exit code. */
export async function runForecast(
  parsed: ParsedArgs,
  dir: string,
  openLocalStore: LocalStoreOpener | undefined,
  io: CliOutput = stdio,
): Promise<number> {
  try {
    const outcome = await forecastCommand({
      settings: settingsFromEnv(),
      dir,
      now: parseNow(process.env.LINE_STEP_DELIVERY_NOW, 'LINE_STEP_DELIVERY_NOW') ?? Date.now(),
      openLocalStore,
      baseRef: textOption(parsed, 'base'),
    });
    io.out(outcome.markdown);
    return 0;
  } catch (error) {
    if (!(error instanceof ForecastProblem)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  }
}
