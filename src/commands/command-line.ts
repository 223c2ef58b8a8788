// The one argument parser of the command line: every command declares its arguments (a
// CommandArgs: options, how many positionals, its usage and help lines) and is parsed
// here, by node:util's parseArgs in strict mode, so a command takes only its own options
// and positionals and anything else is refused with the command's usage line. The CLI's
// table (src/cli/commands.ts) lists the commands; it lives above this layer, and report
// and inspect (src/commands/report-cli.ts) parse their own arguments with this too.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** A mistake in the arguments: the message (whole lines) says what was wrong and how to write it. */
export class UsageError extends Error {}

export interface CommandArgs {
  /** The usage after "line-step-delivery ", e.g. "import FILE.csv [--list NAME]". */
  usage: string;
  /** What --help says of the command, a line each (indented under the usage by the help). */
  about: readonly string[];
  /** Its options; -h/--help is every command's. */
  options: ParseArgsOptionsConfig;
  /** How many positionals it takes at most. */
  positionals: 0 | 1;
  /** The refusal of too many positionals (default: the unexpected ones listed). */
  tooMany?: (positionals: string[]) => string;
}

export interface ParsedArgs {
  command: string;
  spec: CommandArgs;
  values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  /** The positional, when given. */
  positional: string | undefined;
  help: boolean;
}

/** `line-step-delivery <command>: <what>` and the usage line under it. */
export function usageError(command: string, spec: CommandArgs, what: string): UsageError {
  return new UsageError(`line-step-delivery ${command}: ${what}\nusage: line-step-delivery ${spec.usage}`);
}

/** Parses a command's arguments (those after its name); a mistake is a UsageError. */
export function parseCommandArgs(command: string, spec: CommandArgs, args: string[]): ParsedArgs {
  let parsed: { values: ParsedArgs['values']; positionals: string[] };
  try {
    const options = { ...spec.options, help: { type: 'boolean', short: 'h' } } as const;
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options });
  } catch (error) {
    // node:util's own message names the option ("Unknown option '--foo'", "argument missing").
    throw usageError(command, spec, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length > spec.positionals) {
    const unexpected = positionals.slice(spec.positionals).map((a) => `"${a}"`);
    throw usageError(command, spec, spec.tooMany?.(positionals) ?? `unexpected argument(s) ${unexpected.join(' ')}`);
  }
  return { command, spec, values, positional: positionals[0], help: values.help === true };
}

/** A string option's value, when given. */
export const textOption = (parsed: ParsedArgs, key: string): string | undefined => {
  const value = parsed.values[key];
  return typeof value === 'string' ? value : undefined;
};

/** Whether a boolean option was given. */
export const flagOption = (parsed: ParsedArgs, key: string): boolean => parsed.values[key] === true;

/** The --help text of one command: its usage, then what it does. */
export function commandHelp(spec: CommandArgs): string {
  return `usage: line-step-delivery ${spec.usage}\n\n${spec.about.map((line) => `  ${line}`).join('\n')}\n`;
}
