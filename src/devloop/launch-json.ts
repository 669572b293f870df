/**
 * VS Code attach configurations for `nh up --debug`, and merging them into an existing .vscode/launch.json
 * (pure). launch.json is JSON with comments and trailing commas; nh never rewrites what is there: a new
 * configuration is inserted as text at the start of `configurations`, and one of the same name is left
 * alone (the user may have tuned it), so comments and formatting survive.
 */
import type { DebugLanguage } from '../config/model.js';
import { NhError } from '../errors.js';

export interface DebugTarget {
  readonly service: string;
  readonly language: DebugLanguage | undefined;
  /** The forwarded port on 127.0.0.1. */
  readonly localPort: number;
  /** Synced directory relative to the folder holding .vscode ('' = that folder). */
  readonly localDir: string;
  /** Where the synced files live in the container. */
  readonly remoteDir: string;
}

export type LaunchConfig = Readonly<Record<string, unknown>>;

export function configName(service: string): string {
  return `nh: attach ${service}`;
}

/** The attach configuration for the language, or undefined when VS Code has no standard attach for it. */
export function launchConfigFor(target: DebugTarget): LaunchConfig | undefined {
  const name = configName(target.service);
  const localRoot = target.localDir ? `\${workspaceFolder}/${target.localDir}` : '${workspaceFolder}';
  switch (target.language) {
    case 'node':
      // restart: re-attach after each hot reload restarts the process.
      return { name, type: 'node', request: 'attach', address: '127.0.0.1', port: target.localPort, localRoot, remoteRoot: target.remoteDir, restart: true, skipFiles: ['<node_internals>/**'] };
    case 'go':
      return { name, type: 'go', request: 'attach', mode: 'remote', host: '127.0.0.1', port: target.localPort, substitutePath: [{ from: localRoot, to: target.remoteDir }] };
    case 'python':
      return { name, type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port: target.localPort }, pathMappings: [{ localRoot, remoteRoot: target.remoteDir }] };
    case 'java':
      return { name, type: 'java', request: 'attach', hostName: '127.0.0.1', port: target.localPort };
    case 'php':
    case 'ruby':
    case undefined:
      return undefined;
  }
}

/** One line telling how to attach without VS Code. */
export function attachHint(target: DebugTarget): string {
  const where = `127.0.0.1:${target.localPort}`;
  switch (target.language) {
    case 'node':
      return `attach a Node inspector to ${where} (chrome://inspect, or VS Code "${configName(target.service)}")`;
    case 'go':
      return `dlv connect ${where} (or VS Code "${configName(target.service)}")`;
    case 'python':
      return `attach debugpy to ${where} (VS Code "${configName(target.service)}")`;
    case 'java':
      return `jdb -attach ${where} (or VS Code "${configName(target.service)}")`;
    case 'php':
    case 'ruby':
    case undefined:
      return `the debugger listens on ${where}`;
  }
}

export interface MergeResult {
  readonly text: string;
  readonly added: readonly string[];
  /** Names already present, left as they were. */
  readonly kept: readonly string[];
}

/** Merges configurations into launch.json's text (undefined = no file yet). Throws when the file is not readable as JSONC. */
export function mergeLaunchJson(existing: string | undefined, configs: readonly LaunchConfig[]): MergeResult {
  if (existing === undefined || existing.trim() === '') {
    const text = `${JSON.stringify({ version: '0.2.0', configurations: configs }, null, 2)}\n`;
    return { text, added: configs.map((c) => String(c['name'])), kept: [] };
  }
  const blanked = blankComments(existing);
  let parsed: { configurations?: unknown };
  try {
    parsed = JSON.parse(blanked.replace(/,(\s*[}\]])/g, '$1')) as { configurations?: unknown };
  } catch (error) {
    throw new NhError('NH_LAUNCH_JSON_INVALID', `.vscode/launch.json is not valid JSON: ${(error as Error).message}`, {
      hint: 'fix the file (nh leaves it untouched), or move it away and run `nh up --debug` again',
      cause: error,
    });
  }
  const present = new Set(
    (Array.isArray(parsed.configurations) ? (parsed.configurations as unknown[]) : []).map((c) => (c as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string'),
  );
  const fresh = configs.filter((c) => !present.has(String(c['name'])));
  const kept = configs.filter((c) => present.has(String(c['name']))).map((c) => String(c['name']));
  if (fresh.length === 0) return { text: existing, added: [], kept };

  const indent = /\n([ \t]+)"/.exec(existing)?.[1] ?? '  ';
  const entries = fresh.map((c) => indentBlock(JSON.stringify(c, null, indent), indent + indent));
  const match = /"configurations"\s*:\s*\[/.exec(blanked);
  let text: string;
  if (match) {
    const at = match.index + match[0].length;
    const isEmpty = /^\s*\]/.test(blanked.slice(at));
    text = `${existing.slice(0, at)}\n${entries.join(',\n')}${isEmpty ? '\n' + indent : ','}${existing.slice(at)}`;
  } else {
    const open = blanked.indexOf('{');
    if (open < 0) throw new NhError('NH_LAUNCH_JSON_INVALID', '.vscode/launch.json holds no JSON object', { hint: 'fix the file; nh leaves it untouched' });
    const hasOtherKeys = /"/.test(blanked.slice(open + 1, blanked.lastIndexOf('}')));
    text = `${existing.slice(0, open + 1)}\n${indent}"configurations": [\n${entries.join(',\n')}\n${indent}]${hasOtherKeys ? ',' : ''}${existing.slice(open + 1)}`;
  }
  return { text, added: fresh.map((c) => String(c['name'])), kept };
}

function indentBlock(json: string, indent: string): string {
  return json
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}

/** Replaces // and /* *\/ comments outside strings by spaces: positions stay those of the original text. */
export function blankComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
