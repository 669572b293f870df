/**
 * The bin entry: parse the command line, run the command, turn errors into messages and exit codes.
 * The only module that decides what reaches the user's terminal for failures.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NhError } from '../errors.js';
import { clusterOptions, flag, parseCommandLine, renderHelp } from './args.js';
import { COMMANDS } from './commands/index.js';
import { createContext } from './context.js';
import { mapStackTrace } from './stack-trace.js';
import { processTerminal, styleFor, type Terminal } from './terminal.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
}

export async function main(argv: readonly string[], terminal?: Terminal): Promise<number> {
  const term = terminal ?? processTerminal(argv.includes('--no-color'));
  const version = packageVersion();
  try {
    const parsed = parseCommandLine(argv, COMMANDS);
    if (!parsed.command) {
      if (flag(parsed.options, 'version')) {
        term.out(`${version}\n`);
        return EXIT.ok;
      }
      term.out(renderHelp(undefined, COMMANDS, version));
      return flag(parsed.options, 'help') ? EXIT.ok : EXIT.usage;
    }
    if (flag(parsed.options, 'help')) {
      term.out(renderHelp(parsed.command, COMMANDS, version));
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.name === parsed.command?.name)!;
    if (command.uses.cluster) {
      const code = await (await import('./relaunch.js')).relaunchWithNodeDefaults(argv, clusterOptions(parsed.options), process.env);
      if (code !== undefined) return code;
    }
    const run = await command.load();
    return await run(createContext(term, version), parsed);
  } catch (error) {
    return reportError(error, term, argv.includes('--verbose') || argv.includes('-v'));
  }
}

function reportError(error: unknown, term: Terminal, verbose: boolean): number {
  const style = styleFor(term.color);
  if (error instanceof NhError && error.code !== 'NH_INTERNAL') {
    term.err(`${style.red('✖')} ${error.message}\n`);
    if (error.hint) term.err(`  ${style.dim('hint:')} ${error.hint}\n`);
    if (verbose && error.cause) term.err(`  ${style.dim('cause:')} ${String((error.cause as Error).message ?? error.cause)}\n`);
    return error.code === 'NH_USAGE' ? EXIT.usage : EXIT.failed;
  }
  // Not the user's doing: show everything needed for a bug report.
  term.err(`${style.red('✖')} nh hit an internal error; please report it with the output below.\n`);
  term.err(`${error instanceof Error ? mapStackTrace(error.stack ?? error.message, readIfPresent) : String(error)}\n`);
  return EXIT.failed;
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
