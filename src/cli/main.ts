// The command line: the same jobs as the action, for a terminal. Each command is an entry
// of the table in commands.ts; this finds it, parses its arguments and runs it.
import { commandHelp, parseCommandArgs, UsageError } from '../commands/command-line.js';
import { COMMANDS, helpText, type CliCommand } from './commands.js';

/** The command named first; a mistake (an option first, an unknown name) is a UsageError. */
function commandNamed(name: string): CliCommand {
  if (name.startsWith('-'))
    throw new UsageError(
      `line-step-delivery: the command comes first, then its options: line-step-delivery <command> ${name} …`,
    );
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command)
    throw new UsageError(
      `line-step-delivery: unknown command "${name}": use one of ${Object.keys(COMMANDS).join(', ')}`,
    );
  return command;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help') {
    process.stdout.write(helpText());
    return name === undefined ? 2 : 0;
  }
  try {
    const command = commandNamed(name);
    const parsed = parseCommandArgs(name, command.args, rest);
    if (parsed.help) {
      process.stdout.write(commandHelp(command.args));
      return 0;
    }
    return await command.run(parsed);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\nline-step-delivery --help lists the commands.\n`);
    return 1;
  }
}
