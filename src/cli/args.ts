/**
 * Command-line parsing, pure: argv → the command and its typed options. Every flag is declared once,
 * in the tables below, which also feed `--help`.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string | undefined;
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly value?: string;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  /** Which global flags apply: config (-f), cluster (--kubeconfig …). */
  readonly uses: { readonly config: boolean; readonly cluster: boolean };
}

export const CONFIG_FLAGS: readonly FlagSpec[] = [
  { name: 'file', short: 'f', type: 'string', multiple: true, value: 'FILE', description: 'config file (repeatable; the files form one app). Default: .nocalhost/config.yaml, searched from the current directory upward' },
];

export const CLUSTER_FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', value: 'PATH', description: 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' },
  { name: 'context', type: 'string', value: 'NAME', description: 'kubeconfig context to use' },
  { name: 'namespace', short: 'n', type: 'string', value: 'NS', description: "namespace of the app's workloads (default: the context's)" },
];

export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: 'verbose', short: 'v', type: 'boolean', description: 'say more about what happens' },
  { name: 'no-color', type: 'boolean', description: 'no colors (also: NO_COLOR=1, or output that is not a terminal)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
];

export type OptionValues = Readonly<Record<string, string | boolean | ReadonlyArray<string | boolean> | undefined>>;

export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(options: OptionValues, name: string): string[] {
  const value = options[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

/** The cluster flags (--kubeconfig, --context, -n) as the kube client and exec endpoint take them. */
export function clusterOptions(options: OptionValues): { kubeconfig: string | undefined; context: string | undefined; namespace: string | undefined } {
  return { kubeconfig: stringOption(options, 'kubeconfig'), context: stringOption(options, 'context'), namespace: stringOption(options, 'namespace') };
}

export function flag(options: OptionValues, name: string): boolean {
  return options[name] === true;
}

export interface ParsedCommandLine {
  readonly command: CommandSpec | undefined;
  readonly options: OptionValues;
  readonly positionals: readonly string[];
  /** Words after `--`, passed on unparsed (e.g. `nh exec api -- ls -la`). */
  readonly rest: readonly string[];
}

export function flagsOf(command: CommandSpec): FlagSpec[] {
  const shared = [...(command.uses.config ? CONFIG_FLAGS : []), ...(command.uses.cluster ? CLUSTER_FLAGS : []), ...COMMON_FLAGS];
  // A command's own short flag wins (`nh logs -f` follows, as in kubectl); the shared flag keeps its long name.
  const taken = new Set(command.flags.map((f) => f.short));
  return [...command.flags, ...shared.map((f) => (f.short && taken.has(f.short) ? { ...f, short: undefined } : f))];
}

export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[]): ParsedCommandLine {
  const dashdash = argv.indexOf('--');
  const words = dashdash < 0 ? argv : argv.slice(0, dashdash);
  const rest = dashdash < 0 ? [] : argv.slice(dashdash + 1);
  const located = locateCommand(words);
  if (located === undefined) {
    const top = parse(words, [...COMMON_FLAGS, { name: 'version', type: 'boolean', description: 'print the version' }]);
    return { command: undefined, options: top.values, positionals: [], rest };
  }
  const name = words[located.index]!;
  const command = commands.find((c) => c.name === name);
  if (!command) {
    throw new UsageError(`unknown command \`${name}\``, `commands: ${commands.map((c) => c.name).join(', ')}`);
  }
  const parsed = parse([...located.leadingFlags, ...words.slice(located.index + 1)], flagsOf(command), command);
  return { command, options: parsed.values, positionals: parsed.positionals, rest };
}

const GLOBAL_FLAGS: readonly FlagSpec[] = [...CONFIG_FLAGS, ...CLUSTER_FLAGS, ...COMMON_FLAGS];

/**
 * Where the command's name is: the first word that is neither a flag nor the value of a global flag
 * (`nh -f app.yaml validate`). The flags before it come back in long form: there a short flag is the global
 * one, even for a command that gives the letter a meaning of its own (`nh -f app.yaml logs` is not --follow).
 */
function locateCommand(words: readonly string[]): { index: number; leadingFlags: string[] } | undefined {
  const known = new Set(GLOBAL_FLAGS.map((f) => f.name));
  // Not strict: a flag unknown here is left for the command's own parse to judge.
  const { tokens } = parseArgs({ args: [...words], options: parseArgsOptions(GLOBAL_FLAGS), allowPositionals: true, strict: false, tokens: true });
  const leadingFlags: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') return { index: token.index, leadingFlags };
    if (token.kind !== 'option') continue;
    const spelled = known.has(token.name) ? `--${token.name}` : token.rawName;
    leadingFlags.push(token.value === undefined ? spelled : `${spelled}=${token.value}`);
  }
  return undefined;
}

function parseArgsOptions(flags: readonly FlagSpec[]) {
  return Object.fromEntries(
    flags.map((f) => [f.name, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]),
  );
}

function parse(words: readonly string[], flags: readonly FlagSpec[], command?: CommandSpec) {
  try {
    return parseArgs({ args: [...words], options: parseArgsOptions(flags), allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1), command ? `run \`nh ${command.name} --help\`` : undefined);
  }
}

export function renderHelp(command: CommandSpec | undefined, commands: readonly CommandSpec[], version: string): string {
  if (!command) {
    const width = Math.max(...commands.map((c) => c.name.length));
    return [
      `nh ${version} — develop a whole Kubernetes app inside the cluster`,
      '',
      'Usage: nh <command> [options]',
      '',
      'Commands:',
      ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '',
      'Options:',
      ...renderFlags([...COMMON_FLAGS, { name: 'version', type: 'boolean', description: 'print the version' }]),
      '',
      'Run `nh <command> --help` for the options of a command.',
      '',
    ].join('\n');
  }
  return [
    `Usage: ${command.usage}`,
    '',
    command.description ?? command.summary,
    '',
    'Options:',
    ...renderFlags(flagsOf(command)),
    '',
  ].join('\n');
}

function renderFlags(flags: readonly FlagSpec[]): string[] {
  const label = (f: FlagSpec) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const width = Math.max(...flags.map((f) => label(f).length));
  return flags.map((f) => `  ${label(f).padEnd(width)}  ${f.description}`);
}
