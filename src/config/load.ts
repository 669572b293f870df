/**
 * Config loading: bytes → text → templated text → YAML → forms → rules → normalized model.
 * Pure apart from the injected file reader; collects every problem of every file before deciding.
 */
import { basename, dirname, resolve } from 'node:path';
import type { AppConfig, ServiceConfig } from './model.js';
import { hasErrors, shown, sortProblems, type Problem } from './problems.js';
import { positionIn, type SourceFile } from './source-text.js';
import type { SourcePosition } from './problems.js';
import { renderTemplate } from './template.js';
import { parseYaml } from './yaml-document.js';
import { readForms, type LocatedApplication, type LocatedService } from './forms.js';
import { checkRules, objectNameProblem } from './rules.js';
import { normalizeService } from './normalize.js';
import { normalizeInstall } from './normalize-install.js';
import { parseEnvFile } from './env-file.js';
import type { ConfigSchema } from './schema.js';

export interface ConfigFiles {
  /** The bytes of a file, or why it cannot be read. */
  read(path: string): Uint8Array | { readonly error: string };
  /** A path as shown to the user. */
  display(path: string): string;
}

export interface LoadInputs {
  /** Absolute paths of the config files that together describe the app. */
  readonly paths: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly files: ConfigFiles;
  readonly schema: ConfigSchema;
}

export type LoadResult =
  | { readonly ok: true; readonly config: AppConfig; readonly problems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Configs are small; a larger file is a mistake (a binary, a log) and would only slow everything down. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

interface FileServices {
  readonly path: string;
  readonly display: string;
  readonly root: string;
  readonly services: readonly LocatedService[];
  readonly appName: string | undefined;
  readonly application: LocatedApplication | undefined;
}

export function loadConfig(inputs: LoadInputs): LoadResult {
  const problems: Problem[] = [];
  const perFile: FileServices[] = [];
  for (const path of inputs.paths) {
    const result = loadFile(path, inputs);
    problems.push(...result.problems);
    if (result.services) perFile.push(result.services);
  }
  const located = perFile.flatMap((f) => f.services);
  problems.push(...checkRules(located));

  // Keyed by absolute path: two config files may name the same relative path in different roots.
  const envFiles = new Map<string, Map<string, string>>();
  const readEnvFiles = (root: string, list: readonly { path: string }[] | undefined, at: (fi: number) => SourcePosition) => {
    for (const [fi, { path }] of (list ?? []).entries()) {
      // A missing `path` is already a schema error.
      if (path === undefined) continue;
      const absolute = resolve(root, path);
      if (envFiles.has(absolute)) continue;
      const bytes = inputs.files.read(absolute);
      if ('error' in bytes) {
        problems.push({ ...at(fi), severity: 'error', code: 'env-file-unreadable',
          message: `cannot read env file \`${path}\`: ${bytes.error}`, hint: 'the path is relative to the directory holding .nocalhost/' });
      } else {
        envFiles.set(absolute, parseEnvFile(new TextDecoder().decode(bytes)));
      }
    }
  };
  for (const file of perFile) {
    const app = file.application;
    if (app) readEnvFiles(file.root, app.raw.envFrom?.envFile, (fi) => app.at(['envFrom', 'envFile', fi, 'path']));
    for (const service of file.services) {
      for (const [ci, container] of (service.raw.containers ?? []).entries()) {
        readEnvFiles(file.root, container.dev?.envFrom?.envFile, (fi) => service.at(['containers', ci, 'dev', 'envFrom', 'envFile', fi, 'path']));
        readEnvFiles(file.root, container.install?.envFrom?.envFile, (fi) => service.at(['containers', ci, 'install', 'envFrom', 'envFile', fi, 'path']));
      }
    }
  }
  const sorted = sortProblems(problems);
  if (hasErrors(sorted)) return { ok: false, problems: sorted };
  const services: ServiceConfig[] = perFile.flatMap((f) =>
    f.services.map((s) => normalizeService(s.raw, { file: f.display, root: f.root, envFiles, at: (path) => s.at(path) })),
  );
  const installing = perFile.find((f) => f.application?.raw.manifestType);
  const install = installing?.application ? normalizeInstall(installing.application.raw, installing.root, (path) => installing.application!.at(path), envFiles) : undefined;
  return { ok: true, config: { name: appName(perFile), services, files: perFile.map((f) => f.display), install }, problems: sorted };
}

/** `application.name` of the first file that gives one, else the name of the first file's root directory. */
function appName(files: readonly FileServices[]): string {
  return files.find((f) => f.appName)?.appName ?? basename(files[0]?.root ?? '');
}

/** The directory holding `.nocalhost/`, or the file's own directory. */
export function configRoot(path: string): string {
  const dir = dirname(path);
  return basename(dir) === '.nocalhost' ? dirname(dir) : dir;
}

function loadFile(path: string, inputs: LoadInputs): { problems: Problem[]; services?: FileServices } {
  const display = inputs.files.display(path);
  const at1 = { file: display, line: 1, col: 1 };
  const bytes = inputs.files.read(path);
  if ('error' in bytes) {
    return { problems: [{ ...at1, severity: 'error', code: 'unreadable', message: `cannot read the config: ${bytes.error}`, hint: 'check the path given with -f' }] };
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    return { problems: [{ ...at1, severity: 'error', code: 'too-large', message: `the file is ${(bytes.length / 1e6).toFixed(1)} MB; a config is at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`,
      hint: 'is this the right file? A dev config is a few kilobytes of YAML' }] };
  }
  const decoded = decodeUtf8(bytes);
  if ('badByte' in decoded) {
    const file = { path: display, text: new TextDecoder().decode(bytes.subarray(0, decoded.badByte)) };
    return { problems: [{ ...positionIn(file, file.text.length), severity: 'error', code: 'not-utf8',
      message: `the file is not UTF-8 text: byte 0x${bytes[decoded.badByte]!.toString(16).padStart(2, '0')} cannot start a character here`,
      hint: 're-save the file as UTF-8 (YAML requires it)' }] };
  }
  const source: SourceFile = { path: display, text: decoded.text };
  const problems: Problem[] = [];
  const envFileVars = readTemplateEnvFile(source, path, inputs, problems);
  // Included files are shown by display path; their absolute paths resolve nested includes.
  const absolutePaths = new Map([[display, path]]);
  const rendered = renderTemplate(source, {
    lookup: (name) => inputs.env[name] ?? envFileVars.get(name),
    readInclude: (from, rel) => {
      const target = resolve(dirname(absolutePaths.get(from.path) ?? path), rel);
      const included = inputs.files.read(target);
      if ('error' in included) return { error: included.error };
      if (included.length > MAX_CONFIG_BYTES) return { error: `it is ${(included.length / 1e6).toFixed(1)} MB; an included file is at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB` };
      const text = decodeUtf8(included);
      if ('badByte' in text) return { error: 'not UTF-8 text' };
      absolutePaths.set(inputs.files.display(target), target);
      return { path: inputs.files.display(target), text: text.text };
    },
  });
  problems.push(...rendered.problems);
  if (hasErrors(rendered.problems)) return { problems };
  const { parsed, problems: yamlProblems } = parseYaml(rendered.text);
  problems.push(...yamlProblems);
  if (!parsed) return { problems };
  const forms = readForms(parsed.value, parsed.locate, inputs.schema);
  problems.push(...forms.problems);
  // A DNS-1123 label, as Nocalhost required (it was the Helm release name); nh labels the app's objects with it.
  const badAppName = forms.appName && forms.application ? objectNameProblem(forms.appName, 'label') : undefined;
  if (badAppName) {
    problems.push({ ...forms.application!.at(['name']), severity: 'error', code: 'bad-name', message: `application name \`${shown(forms.appName!)}\` ${badAppName.message}`, hint: badAppName.hint });
  }
  return { problems, services: { path, display, root: configRoot(path), services: forms.services, appName: forms.appName, application: forms.application } };
}

/** `configProperties.envFile`, read before templating because templating needs its variables. */
function readTemplateEnvFile(source: SourceFile, path: string, inputs: LoadInputs, problems: Problem[]): Map<string, string> {
  const match = /^configProperties:[ \t]*(?:#.*)?\r?\n(?:[ \t]+.*\r?\n)*?[ \t]+envFile:[ \t]*["']?([^"'#\r\n]+?)["']?[ \t]*(?:#.*)?$/m.exec(source.text);
  if (!match?.[1]) return new Map();
  const envPath = resolve(dirname(path), match[1]);
  const bytes = inputs.files.read(envPath);
  if ('error' in bytes) {
    problems.push({ ...positionIn(source, match.index + match[0].lastIndexOf(match[1])), severity: 'warning', code: 'env-file-missing',
      message: `configProperties.envFile \`${match[1]}\` cannot be read (${bytes.error}); its variables are not set`,
      hint: 'the path is relative to the config file' });
    return new Map();
  }
  return parseEnvFile(new TextDecoder().decode(bytes));
}

function decodeUtf8(bytes: Uint8Array): { text: string } | { badByte: number } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch {
    return { badByte: firstInvalidUtf8(bytes) };
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return 0;
}
