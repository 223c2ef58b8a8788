// init and doctor on the command line: their arguments (for the CLI's table,
// src/cli/commands.ts) and what runs them once parsed.
import { flagOption, textOption, type CommandArgs, type ParsedArgs } from '../commands/command-line.js';
import { settingsFromEnv } from '../commands/config.js';
import { DEFAULT_SAMPLE, init, initReport } from '../commands/init.js';
import { doctor, formatChecks } from '../commands/doctor.js';

export const INIT_ARGS: CommandArgs = {
  usage: 'init [--sample NAME] [--scenarios DIR] [--uses OWNER/REPO@REF] [--force]',
  about: [
    'in your repository: the workflows (.github/workflows: step-delivery, scenarios,',
    `report, doctor), DIR/ with the JSON Schema and one sample (default ${DEFAULT_SAMPLE}),`,
    'then the remaining steps as a checklist; never overwrites a file without --force',
  ],
  options: {
    sample: { type: 'string' },
    scenarios: { type: 'string' },
    uses: { type: 'string' },
    force: { type: 'boolean' },
  },
  positionals: 0,
};

export const DOCTOR_ARGS: CommandArgs = {
  usage: 'doctor [DIR] [--channel NAME|@BASIC_ID]',
  about: [
    'check every link, in the order to fix them: the settings, the database',
    '(migrations, the key, RLS), LINE (token, channel, quota, webhook), events,',
    'the dispatcher, the scenarios; read-only; exit 1 when a link is broken.',
    'With --channel, a token of another LINE channel is a fix',
  ],
  options: { scenarios: { type: 'string' }, channel: { type: 'string' } },
  positionals: 1,
};

export async function runInit(parsed: ParsedArgs): Promise<number> {
  const outcome = await init({
    sample: textOption(parsed, 'sample'),
    dir: textOption(parsed, 'scenarios'),
    uses: textOption(parsed, 'uses'),
    force: flagOption(parsed, 'force'),
  });
  if (!outcome.ok) {
    process.stderr.write(`line-step-delivery init: ${outcome.error}\n`);
    return 1;
  }
  process.stdout.write(initReport(outcome));
  return 0;
}

export async function runDoctor(parsed: ParsedArgs, dir: string): Promise<number> {
  const outcome = await doctor({
    settings: settingsFromEnv(),
    source: 'env',
    env: process.env,
    dir,
    expectChannel: textOption(parsed, 'channel'),
  });
  process.stdout.write(formatChecks(outcome.checks));
  return outcome.broken ? 1 : 0;
}
