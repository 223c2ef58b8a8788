// The CLI's one parser and its table: every command is parsed the same way, refuses what
// it does not take with its own usage line, and is listed in --help from the same entry.
import { test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { main } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { parseCommandArgs, UsageError } from '../../src/commands/command-line.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const write = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = (chunk: string) => ((out.stdout += chunk), true);
  process.stderr.write = (chunk: string) => ((out.stderr += chunk), true);
  try {
    return { code: await main(args), ...out };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
}

const names = Object.keys(COMMANDS);

test('--help lists every command of the table with its usage and what it does; no command at all exits 2', async () => {
  const help = await cli('--help');
  assert.equal(help.code, 0);
  for (const { args } of Object.values(COMMANDS)) {
    assert.ok(help.stdout.includes(`\n  ${args.usage}\n`), args.usage);
    for (const line of args.about) assert.ok(help.stdout.includes(`\n             ${line}\n`), line);
  }
  const none = await cli();
  assert.equal(none.code, 2);
  assert.equal(none.stdout, help.stdout);
});

test("each command's --help is its usage line and what it does, exit 0", async () => {
  for (const name of names) {
    const { code, stdout } = await cli(name, '--help');
    assert.equal(code, 0, name);
    assert.ok(stdout.startsWith(`usage: line-step-delivery ${COMMANDS[name]!.args.usage}\n`), stdout);
    assert.ok(stdout.includes(COMMANDS[name]!.args.about[0]!), name);
    assert.equal((await cli(name, '-h')).stdout, stdout);
  }
});

propTest.prop([fc.constantFrom(...names), fc.stringMatching(/^[a-z][a-z-]{2,12}$/)], { numRuns: 30 })(
  'an option a command does not take is refused with its name and the usage line, exit 1, before anything runs',
  async (name, option) => {
    fc.pre(!Object.hasOwn(COMMANDS[name]!.args.options, option) && option !== 'help');
    const { code, stdout, stderr } = await cli(name, `--${option}`);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `line-step-delivery ${name}: Unknown option '--${option}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--${option}"\n` +
        `usage: line-step-delivery ${COMMANDS[name]!.args.usage}\nline-step-delivery --help lists the commands.\n`,
    );
  },
);

test('the command comes first; an unknown command lists the known ones', async () => {
  const first = await cli('--scenarios', 'x', 'validate');
  assert.equal(first.code, 1);
  assert.match(first.stderr, /the command comes first, then its options/);
  const unknown = await cli('frobnicate');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, new RegExp(`unknown command "frobnicate": use one of ${names.join(', ')}\n`));
});

test('a command added to the table is parsed, run and listed with no other change', async () => {
  const seen: string[] = [];
  COMMANDS.echo = {
    args: { usage: 'echo WORD [--loud]', about: ['says WORD'], options: { loud: { type: 'boolean' } }, positionals: 1 },
    run: async (parsed) => {
      seen.push(`${parsed.positional}${parsed.values.loud ? '!' : ''}`);
      return 0;
    },
  };
  try {
    assert.equal((await cli('echo', 'hi', '--loud')).code, 0);
    assert.deepEqual(seen, ['hi!']);
    assert.match((await cli('--help')).stdout, /\n {2}echo WORD \[--loud\]\n {13}says WORD\n/);
    assert.match((await cli('echo', 'a', 'b')).stderr, /^line-step-delivery echo: unexpected argument\(s\) "b"\n/);
  } finally {
    delete COMMANDS.echo;
  }
});

test('too many positionals: the extra ones are named, or the command says it its way', () => {
  const spec = { usage: 'x', about: [], options: {}, positionals: 0 as const };
  assert.throws(
    () => parseCommandArgs('x', spec, ['a', 'b']),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === 'line-step-delivery x: unexpected argument(s) "a" "b"\nusage: line-step-delivery x',
  );
  assert.throws(
    () => parseCommandArgs('inspect', COMMANDS.inspect!.args, ['U1', 'U2']),
    (e: unknown) => e instanceof UsageError && /one user at a time, got 2/.test(e.message),
  );
});
